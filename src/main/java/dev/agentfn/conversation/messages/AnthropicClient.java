package dev.agentfn.conversation.messages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.Sleeper;
import dev.agentfn.conversation.messages.wire.Message;
import dev.agentfn.conversation.messages.wire.MessagesRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Typed client of {@code POST /v1/messages}, always streaming. Non-blocking: one shared JDK
 * {@link HttpClient}; the SSE body is parsed as lines arrive, so no thread waits on the model.
 * Retries follow {@link RetryPolicy}, but never once a delta was relayed to the caller.
 */
public final class AnthropicClient {

    /** Where and how to call. Credentials never leave this record except as request headers. */
    public record Endpoint(URI baseUrl, Optional<String> apiKey, Optional<String> authToken, String version,
            List<String> betas) {
        URI messagesUri() {
            String base = baseUrl.toString();
            return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/v1/messages");
        }
    }

    /** Observes one logical call across its attempts. */
    public interface CallObserver {
        void textDelta(String text);

        void retry(int retry, int status, String errorType, Duration delay);

        boolean relayedAnything();
    }

    /** A finished call. */
    public record CallResult(Message message, String requestId, Duration timeToFirstToken, int attempts) {
    }

    private final HttpClient http;
    private final ObjectMapper json;
    private final Endpoint endpoint;
    private final RetryPolicy retryPolicy;
    private final Sleeper sleeper;

    public AnthropicClient(HttpClient http, ObjectMapper json, Endpoint endpoint, RetryPolicy retryPolicy,
            Sleeper sleeper) {
        this.http = http;
        this.json = json;
        this.endpoint = endpoint;
        this.retryPolicy = retryPolicy;
        this.sleeper = sleeper;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public CompletableFuture<CallResult> call(MessagesRequest request, CallObserver observer, Deadline deadline) {
        byte[] body;
        try {
            body = json.writeValueAsBytes(request.toJson());
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<CallResult> result = new CompletableFuture<>();
        AtomicReference<CompletableFuture<?>> current = new AtomicReference<>();
        Executor atDeadline = CompletableFuture.delayedExecutor(deadline.remaining().toNanos(), TimeUnit.NANOSECONDS);
        CompletableFuture.runAsync(() -> {
            if (result.completeExceptionally(new ConversationException.DeadlineExceeded(
                    "the invocation deadline passed while waiting for the model"))) {
                Optional.ofNullable(current.get()).ifPresent(f -> f.cancel(true));
            }
        }, atDeadline);
        attempt(request, body, observer, deadline, 0, current, result);
        return result;
    }

    private void attempt(MessagesRequest request, byte[] body, CallObserver observer, Deadline deadline, int retry,
            AtomicReference<CompletableFuture<?>> current, CompletableFuture<CallResult> result) {
        if (result.isDone()) {
            return;
        }
        CompletableFuture<CallResult> one = send(request, body, observer, deadline, retry);
        current.set(one);
        one.whenComplete((ok, err) -> {
            if (err == null) {
                result.complete(ok);
                return;
            }
            AttemptFailure failure = AttemptFailure.of(unwrap(err));
            boolean again = retry < retryPolicy.maxRetries() && !observer.relayedAnything()
                    && retryPolicy.retryable(failure.status, failure.headers);
            if (!again) {
                result.completeExceptionally(failure.toException(retryPolicy));
                return;
            }
            Duration delay = retryPolicy.delay(retry + 1, failure.headers);
            if (delay.compareTo(deadline.remaining()) >= 0) {
                result.completeExceptionally(failure.toException(retryPolicy));
                return;
            }
            observer.retry(retry + 1, failure.status, failure.errorType, delay);
            sleeper.sleep(delay).thenRun(() -> attempt(request, body, observer, deadline, retry + 1, current, result));
        });
    }

    private CompletableFuture<CallResult> send(MessagesRequest request, byte[] body, CallObserver observer,
            Deadline deadline, int retry) {
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint.messagesUri())
                .timeout(deadline.remaining().plusMillis(1))
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .header("anthropic-version", endpoint.version)
                .header("x-stainless-retry-count", Integer.toString(retry))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        endpoint.apiKey.ifPresent(k -> b.header("x-api-key", k));
        endpoint.authToken.ifPresent(t -> b.header("authorization", "Bearer " + t));
        List<String> betas = new ArrayList<>(endpoint.betas);
        request.betas().stream().filter(x -> !betas.contains(x)).forEach(betas::add);
        if (!betas.isEmpty()) {
            b.header("anthropic-beta", String.join(",", betas));
        }
        long started = System.nanoTime();
        CompletableFuture<CallResult> done = new CompletableFuture<>();
        StreamSubscriber subscriber = new StreamSubscriber(json, observer::textDelta);
        AtomicReference<String> requestId = new AtomicReference<>();
        // A 200 completes from the stream itself: a stream we cancel (error event) may never end the exchange.
        subscriber.outcome().whenComplete((message, streamErr) -> {
            if (streamErr != null) {
                done.completeExceptionally(AttemptFailure.stream(unwrap(streamErr), requestId.get()));
            } else {
                long ttft = subscriber.firstDeltaNanos() == 0 ? 0 : subscriber.firstDeltaNanos() - started;
                done.complete(new CallResult(message, requestId.get(), Duration.ofNanos(ttft), retry + 1));
            }
        });
        CompletableFuture<HttpResponse<Object>> exchange = http.sendAsync(b.build(), info -> {
            requestId.set(info.headers().firstValue("request-id").orElse(null));
            return bodyFor(info, subscriber);
        });
        exchange.whenComplete((response, err) -> {
            if (err != null) {
                done.completeExceptionally(unwrap(err));
                subscriber.outcome().completeExceptionally(unwrap(err));
            } else if (response.statusCode() != 200) {
                done.completeExceptionally(httpError(response, requestId.get()));
            }
        });
        done.whenComplete((ok, err) -> {
            if (err != null) {
                exchange.cancel(true);
                subscriber.cancel();
            }
        });
        return done;
    }

    private static HttpResponse.BodySubscriber<Object> bodyFor(HttpResponse.ResponseInfo info,
            StreamSubscriber subscriber) {
        if (info.statusCode() == 200) {
            return HttpResponse.BodySubscribers.mapping(
                    HttpResponse.BodySubscribers.fromLineSubscriber(subscriber), v -> null);
        }
        return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofByteArray(), bytes -> bytes);
    }

    private AttemptFailure httpError(HttpResponse<Object> response, String requestId) {
        String type = "api_error";
        String message = "HTTP " + response.statusCode();
        if (response.body() instanceof byte[] bytes && bytes.length > 0) {
            try {
                JsonNode error = json.readTree(bytes).path("error");
                type = error.path("type").asText(type);
                message = error.path("message").asText(message);
            } catch (IOException | RuntimeException ignored) {
                // a proxy's HTML error page: keep the status as the message
            }
        }
        return new AttemptFailure(response.statusCode(), response.headers(), type, message, requestId);
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Why one attempt failed, with what the retry decision needs. */
    static final class AttemptFailure extends RuntimeException {
        final int status;
        final transient HttpHeaders headers;
        final String errorType;
        final String requestId;

        AttemptFailure(int status, HttpHeaders headers, String errorType, String message, String requestId) {
            super(message, null, false, false);
            this.status = status;
            this.headers = headers;
            this.errorType = errorType;
            this.requestId = requestId;
        }

        static AttemptFailure stream(Throwable t, String requestId) {
            if (t instanceof MessageAccumulator.StreamErrorEvent e) {
                int status = "overloaded_error".equals(e.type) ? 529 : "rate_limit_error".equals(e.type) ? 429 : 500;
                return new AttemptFailure(status, null, e.type, e.getMessage(), requestId);
            }
            if (t instanceof MessageAccumulator.MalformedStreamException) {
                return new AttemptFailure(0, HttpHeaders.of(java.util.Map.of("x-should-retry", List.of("false")),
                        (a, b) -> true), "malformed_stream", t.getMessage(), requestId);
            }
            return new AttemptFailure(0, null, "connection_error",
                    "the stream broke: " + (t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage()),
                    requestId);
        }

        static AttemptFailure of(Throwable t) {
            if (t instanceof AttemptFailure f) {
                return f;
            }
            if (t instanceof java.net.http.HttpTimeoutException) {
                return new AttemptFailure(408, null, "timeout_error", "no response before the deadline", null);
            }
            String what = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            return new AttemptFailure(0, null, "connection_error", "could not reach the Messages API: " + what, null);
        }

        ConversationException toException(RetryPolicy policy) {
            Duration retryAfter = policy.serverDelay(headers).orElse(null);
            return new ConversationException.Upstream(status, errorType, getMessage(), requestId, retryAfter);
        }
    }

    /** Feeds SSE lines into a {@link MessageAccumulator}; completes with the message at end of stream. */
    static final class StreamSubscriber implements Flow.Subscriber<String> {
        private final SseParser parser;
        private final MessageAccumulator accumulator;
        private final CompletableFuture<Message> outcome = new CompletableFuture<>();
        private volatile Flow.Subscription subscription;

        StreamSubscriber(ObjectMapper json, MessageAccumulator.Listener listener) {
            this.accumulator = new MessageAccumulator(json, listener);
            this.parser = new SseParser(accumulator::apply);
        }

        CompletableFuture<Message> outcome() {
            return outcome;
        }

        long firstDeltaNanos() {
            return accumulator.firstDeltaNanos();
        }

        void cancel() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String line) {
            if (outcome.isDone()) {
                return;
            }
            try {
                parser.line(line);
            } catch (RuntimeException e) {
                outcome.completeExceptionally(e);
                cancel();
            }
        }

        @Override
        public void onError(Throwable t) {
            outcome.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            try {
                parser.end();
                if (accumulator.complete()) {
                    outcome.complete(accumulator.result());
                } else {
                    outcome.completeExceptionally(new IOException("stream ended before message_stop"));
                }
            } catch (RuntimeException e) {
                outcome.completeExceptionally(e);
            }
        }
    }
}
