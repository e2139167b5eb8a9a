package dev.agentfn.conversation.messages;

import dev.agentfn.Futures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.Sleeper;
import dev.agentfn.conversation.messages.wire.Message;
import dev.agentfn.conversation.messages.wire.MessagesRequest;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Typed client of {@code POST /v1/messages}, always streaming. Non-blocking: one shared Vert.x
 * {@link HttpClient} on the event loops Quarkus already runs; the SSE body is parsed as bytes arrive,
 * so no thread waits on the model and no hand-off to another pool happens per chunk.
 * Retries follow {@link RetryPolicy}, but never once a delta was relayed to the caller.
 */
public final class AnthropicClient {
    /**
     * Connections kept per host. A streamed call holds its connection for the whole model turn,
     * so the pool must be as large as the concurrency served (Vert.x' default is 5).
     */
    static final int MAX_CONNECTIONS = 4096;

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

    private final Vertx vertx;
    private final HttpClient http;
    private final ObjectMapper json;
    private final Endpoint endpoint;
    private final String messagesUri;
    private final MultiMap fixedHeaders;
    private final RetryPolicy retryPolicy;
    private final Sleeper sleeper;

    /** One instance per process: it owns a connection pool. */
    public AnthropicClient(Vertx vertx, Duration connectTimeout, ObjectMapper json, Endpoint endpoint,
            RetryPolicy retryPolicy, Sleeper sleeper) {
        this.vertx = vertx;
        this.http = vertx.createHttpClient(options(connectTimeout));
        this.json = json;
        this.endpoint = endpoint;
        this.messagesUri = endpoint.messagesUri().toString();
        this.fixedHeaders = fixedHeaders(endpoint);
        this.retryPolicy = retryPolicy;
        this.sleeper = sleeper;
    }

    static HttpClientOptions options(Duration connectTimeout) {
        // HTTP/1.1 like before: one stream per connection; TLS (per URL scheme) verifies the host name
        return new HttpClientOptions().setName("agentfn-anthropic").setProtocolVersion(HttpVersion.HTTP_1_1)
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .setMaxPoolSize(MAX_CONNECTIONS).setKeepAlive(true).setVerifyHost(true).setTryUseCompression(false);
    }

    private static MultiMap fixedHeaders(Endpoint endpoint) {
        MultiMap h = MultiMap.caseInsensitiveMultiMap()
                .set("content-type", "application/json")
                .set("accept", "text/event-stream")
                .set("anthropic-version", endpoint.version);
        endpoint.apiKey.ifPresent(k -> h.set("x-api-key", k));
        endpoint.authToken.ifPresent(t -> h.set("authorization", "Bearer " + t));
        return h;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public CompletableFuture<CallResult> call(MessagesRequest request, CallObserver observer, Deadline deadline) {
        Buffer body;
        try {
            body = Buffer.buffer(json.writeValueAsBytes(request.toJson()));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<CallResult> result = new CompletableFuture<>();
        AtomicReference<CompletableFuture<?>> current = new AtomicReference<>();
        long timer = vertx.setTimer(Math.max(1, deadline.remaining().toMillis()), id -> {
            if (result.completeExceptionally(new ConversationException.DeadlineExceeded(
                    "the invocation deadline passed while waiting for the model"))) {
                Optional.ofNullable(current.get()).ifPresent(f -> f.cancel(true));
            }
        });
        result.whenComplete((ok, err) -> vertx.cancelTimer(timer));
        attempt(request, body, observer, deadline, 0, current, result);
        return result;
    }

    private void attempt(MessagesRequest request, Buffer body, CallObserver observer, Deadline deadline, int retry,
            AtomicReference<CompletableFuture<?>> current, CompletableFuture<CallResult> result) {
        if (result.isDone()) {
            return;
        }
        CompletableFuture<CallResult> one = send(request, body, observer, retry);
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

    private RequestOptions requestOptions(MessagesRequest request, int retry) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().setAll(fixedHeaders)
                .set("x-stainless-retry-count", Integer.toString(retry));
        List<String> betas = new ArrayList<>(endpoint.betas);
        request.betas().stream().filter(x -> !betas.contains(x)).forEach(betas::add);
        if (!betas.isEmpty()) {
            headers.set("anthropic-beta", String.join(",", betas));
        }
        return new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(messagesUri).setHeaders(headers);
    }

    private CompletableFuture<CallResult> send(MessagesRequest request, Buffer body, CallObserver observer,
            int retry) {
        long started = System.nanoTime();
        CompletableFuture<CallResult> done = new CompletableFuture<>();
        SseStream stream = new SseStream(json, observer::textDelta);
        AtomicReference<String> requestId = new AtomicReference<>();
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        // A 200 completes from the stream itself: a stream we give up on (error event) is reset, not drained.
        stream.outcome().whenComplete((message, streamErr) -> {
            if (streamErr != null) {
                done.completeExceptionally(AttemptFailure.stream(unwrap(streamErr), requestId.get()));
            } else {
                long ttft = stream.firstDeltaNanos() == 0 ? 0 : stream.firstDeltaNanos() - started;
                done.complete(new CallResult(message, requestId.get(), Duration.ofNanos(ttft), retry + 1));
            }
        });
        // On an event-loop context the response callbacks run as soon as the head arrives, before any body
        // bytes are handled; called from another thread they would run later and could miss a short stream.
        vertx.getOrCreateContext().runOnContext(ignored -> exchange(request, body, retry, done, stream, requestId, sent));
        done.whenComplete((ok, err) -> {
            HttpClientRequest req = sent.get();
            if (err != null && req != null) {
                req.reset();
            }
        });
        return done;
    }

    private void exchange(MessagesRequest request, Buffer body, int retry, CompletableFuture<CallResult> done,
            SseStream stream, AtomicReference<String> requestId, AtomicReference<HttpClientRequest> sent) {
        http.request(requestOptions(request, retry)).compose(req -> {
            sent.set(req);
            if (done.isDone()) {
                req.reset();
                return io.vertx.core.Future.failedFuture("cancelled before sending");
            }
            // handlers go on in send()'s own callback: Vert.x drops chunks that arrive before they are set,
            // and a callback on the outer future may run a dispatch later (see MlflowHttp#attempt)
            return req.send(body).onSuccess(response -> {
                requestId.set(response.getHeader("request-id"));
                if (response.statusCode() == 200) {
                    stream.attach(response);
                } else {
                    response.body().onComplete(ar -> done.completeExceptionally(
                            httpError(response, ar.succeeded() ? ar.result() : null, requestId.get())));
                }
            });
        }).onFailure(err -> {
            done.completeExceptionally(err);
            stream.outcome().completeExceptionally(err);
        });
    }

    private AttemptFailure httpError(HttpClientResponse response, Buffer body, String requestId) {
        String type = "api_error";
        String message = "HTTP " + response.statusCode();
        if (body != null && body.length() > 0) {
            try {
                JsonNode error = json.readTree(body.getBytes()).path("error");
                type = error.path("type").asText(type);
                message = error.path("message").asText(message);
            } catch (IOException | RuntimeException ignored) {
                // a proxy's HTML error page: keep the status as the message
            }
        }
        return new AttemptFailure(response.statusCode(), jdkHeaders(response.headers()), type, message, requestId);
    }

    /** Error responses only (rare): the retry policy reads {@link HttpHeaders}. */
    private static HttpHeaders jdkHeaders(MultiMap headers) {
        Map<String, List<String>> map = new LinkedHashMap<>();
        for (String name : headers.names()) {
            map.put(name, headers.getAll(name));
        }
        return HttpHeaders.of(map, (a, b) -> true);
    }

    private static Throwable unwrap(Throwable t) {
        return Futures.unwrap(t);
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
            if (t instanceof TimeoutException) {
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

    /** Feeds a 200 response's bytes, line by line, into a {@link MessageAccumulator}; completes at end of stream. */
    static final class SseStream {
        private final LineDecoder lines;
        private final SseParser parser;
        private final MessageAccumulator accumulator;
        private final CompletableFuture<Message> outcome = new CompletableFuture<>();

        SseStream(ObjectMapper json, MessageAccumulator.Listener listener) {
            this.accumulator = new MessageAccumulator(json, listener);
            this.parser = new SseParser(accumulator::apply);
            this.lines = new LineDecoder(parser::line);
        }

        CompletableFuture<Message> outcome() {
            return outcome;
        }

        long firstDeltaNanos() {
            return accumulator.firstDeltaNanos();
        }

        void attach(HttpClientResponse response) {
            response.exceptionHandler(outcome::completeExceptionally);
            response.handler(this::chunk);
            response.endHandler(v -> end());
        }

        private void chunk(Buffer chunk) {
            if (outcome.isDone()) {
                return;
            }
            try {
                lines.feed(chunk.getBytes());
            } catch (RuntimeException e) {
                outcome.completeExceptionally(e);
            }
        }

        private void end() {
            if (outcome.isDone()) {
                return;
            }
            try {
                lines.end();
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
