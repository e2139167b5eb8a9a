package dev.agentfn.evaluation;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.Sleeper;
import dev.agentfn.conversation.messages.RetryPolicy;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * Client of an OpenAI-compatible {@code POST <base>/chat/completions} (OpenAI, Azure-style gateways,
 * vLLM, Ollama, LiteLLM), non-streaming, for {@code openai:/} judges. One instance per process on the
 * shared Vert.x event loops; retries 408/409/429/5xx and connection errors as the Messages client does,
 * honouring {@code retry-after}. The key only ever leaves as the {@code Authorization} header, and is
 * cut out of error messages (OpenAI echoes a masked key in its 401 text).
 */
public final class OpenAiChatClient {
    private static final Pattern KEY_LIKE = Pattern.compile("sk-[A-Za-z0-9_*\\-.]{4,}");

    /**
     * Request body: the fields every compatible server accepts, and {@code response_format} (structured output)
     * when the caller offers it; a server that refuses it answers 400, which the caller handles.
     */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ChatRequest(String model, List<ChatMessage> messages,
            @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
            @JsonProperty("response_format") JsonNode responseFormat) {

        public ChatRequest(String model, List<ChatMessage> messages, Integer maxCompletionTokens) {
            this(model, messages, maxCompletionTokens, null);
        }
    }

    @RegisterForReflection
    public record ChatMessage(String role, String content) {
    }

    /** The first choice's text and the token usage (0 when the server reports none). */
    public record Completion(String text, long promptTokens, long completionTokens, String finishReason) {
    }

    /** A call that got no usable answer; the message names status, type and code but never the key. */
    public static final class ChatException extends RuntimeException {
        private final int status;

        ChatException(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Vertx vertx;
    private final HttpClient http;
    private final ObjectMapper json;
    private final String uri;
    private final Optional<String> apiKey;
    private final RetryPolicy retryPolicy;
    private final Sleeper sleeper;

    public OpenAiChatClient(Vertx vertx, Duration connectTimeout, ObjectMapper json, String baseUrl,
            Optional<String> apiKey, RetryPolicy retryPolicy, Sleeper sleeper) {
        this.vertx = vertx;
        this.http = vertx.createHttpClient(new HttpClientOptions().setName("agentfn-openai")
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .setMaxPoolSize(256).setKeepAlive(true).setVerifyHost(true));
        this.json = json;
        this.uri = (baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl) + "/chat/completions";
        this.apiKey = apiKey.filter(k -> !k.isBlank());
        this.retryPolicy = retryPolicy;
        this.sleeper = sleeper;
    }

    public String uri() {
        return uri;
    }

    public CompletableFuture<Completion> complete(ChatRequest request, Deadline deadline) {
        Buffer body;
        try {
            body = Buffer.buffer(json.writeValueAsBytes(request));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Completion> result = new CompletableFuture<>();
        long timer = vertx.setTimer(Math.max(1, deadline.remaining().toMillis()), id -> result.completeExceptionally(
                new ChatException(408, "no answer from " + uri + " before the judge timeout")));
        result.whenComplete((ok, err) -> vertx.cancelTimer(timer));
        attempt(body, deadline, 0, result);
        return result;
    }

    private void attempt(Buffer body, Deadline deadline, int retry, CompletableFuture<Completion> result) {
        if (result.isDone()) {
            return;
        }
        send(body, retry, result).whenComplete((ok, err) -> {
            if (err == null) {
                result.complete(ok);
                return;
            }
            Failure f = err instanceof Failure x ? x
                    : new Failure(0, null, "could not reach " + uri + ": " + redact(String.valueOf(err.getMessage())));
            boolean again = retry < retryPolicy.maxRetries() && retryPolicy.retryable(f.status, f.headers);
            Duration delay = again ? retryPolicy.delay(retry + 1, f.headers) : Duration.ZERO;
            if (!again || delay.compareTo(deadline.remaining()) >= 0) {
                result.completeExceptionally(new ChatException(f.status, f.getMessage()));
                return;
            }
            sleeper.sleep(delay).thenRun(() -> attempt(body, deadline, retry + 1, result));
        });
    }

    private CompletableFuture<Completion> send(Buffer body, int retry, CompletableFuture<Completion> overall) {
        CompletableFuture<Completion> done = new CompletableFuture<>();
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().set("content-type", "application/json")
                .set("accept", "application/json").set("x-stainless-retry-count", Integer.toString(retry));
        apiKey.ifPresent(k -> headers.set("authorization", "Bearer " + k));
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(uri).setHeaders(headers);
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        vertx.getOrCreateContext().runOnContext(ignored -> http.request(options).compose(req -> {
            sent.set(req);
            // the body is subscribed to in send()'s own callback: see MlflowHttp#attempt
            return req.send(body).compose(resp -> resp.body().map(b -> answer(resp.statusCode(), resp.headers(), b)));
        }).onSuccess(done::complete).onFailure(done::completeExceptionally));
        // The judge timeout fired: the connection is freed, not left to the server.
        overall.whenComplete((ok, err) -> {
            HttpClientRequest req = sent.get();
            if (err != null && req != null) {
                req.reset();
            }
        });
        return done;
    }

    private Completion answer(int status, MultiMap headers, Buffer body) {
        JsonNode doc;
        try {
            doc = json.readTree(body.getBytes());
        } catch (IOException | RuntimeException e) {
            doc = null;
        }
        if (status != 200) {
            JsonNode error = doc == null ? null : doc.path("error");
            String message = error == null || error.isMissingNode() ? "HTTP " + status
                    : "HTTP " + status + " " + error.path("type").asText("error")
                            + (error.hasNonNull("code") ? " (" + error.get("code").asText() + ")" : "") + ": "
                            + error.path("message").asText("");
            throw new Failure(status, jdkHeaders(headers), redact(message));
        }
        JsonNode choice = doc == null ? null : doc.path("choices").path(0);
        if (choice == null || !choice.path("message").has("content")) {
            // Not retried: the server answered, just not in the chat-completions shape.
            throw new Failure(status, HttpHeaders.of(Map.of("x-should-retry", List.of("false")), (a, b) -> true),
                    "the endpoint answered 200 without choices[0].message.content");
        }
        JsonNode usage = doc.path("usage");
        return new Completion(choice.path("message").path("content").asText(null),
                usage.path("prompt_tokens").asLong(0), usage.path("completion_tokens").asLong(0),
                choice.path("finish_reason").asText(null));
    }

    private String redact(String message) {
        String m = apiKey.map(k -> message.replace(k, "***")).orElse(message);
        return KEY_LIKE.matcher(m).replaceAll("sk-***");
    }

    private static HttpHeaders jdkHeaders(MultiMap headers) {
        Map<String, List<String>> map = new LinkedHashMap<>();
        for (String name : headers.names()) {
            map.put(name, headers.getAll(name));
        }
        return HttpHeaders.of(map, (a, b) -> true);
    }

    /** One attempt's failure with what the retry decision needs. */
    private static final class Failure extends RuntimeException {
        final int status;
        final transient HttpHeaders headers;

        Failure(int status, HttpHeaders headers, String message) {
            super(message, null, false, false);
            this.status = status;
            this.headers = headers;
        }
    }
}
