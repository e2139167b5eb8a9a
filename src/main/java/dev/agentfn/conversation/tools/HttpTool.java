package dev.agentfn.conversation.tools;

import dev.agentfn.Futures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Deadline;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A deployer-defined tool: the input is POSTed as JSON to a fixed URL and the response body becomes
 * the tool result. Redirects are not followed, so the host allow-list cannot be escaped.
 */
public final class HttpTool implements Tool {
    private final String name;
    private final ObjectNode definition;
    private final URI url;
    private final Duration timeout;
    private final int maxResponseBytes;
    private final HttpClient http;
    private final ObjectMapper json;

    public HttpTool(String name, ObjectNode definition, URI url, Duration timeout, int maxResponseBytes,
            HttpClient http, ObjectMapper json) {
        this.name = name;
        this.definition = definition;
        this.url = url;
        this.timeout = timeout;
        this.maxResponseBytes = maxResponseBytes;
        this.http = http;
        this.json = json;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ObjectNode definition() {
        return definition;
    }

    @Override
    public CompletableFuture<ToolResult> call(JsonNode input, Deadline deadline) {
        Duration budget = deadline.remaining().compareTo(timeout) < 0 ? deadline.remaining() : timeout;
        if (budget.isZero()) {
            return CompletableFuture.completedFuture(ToolResult.error("no time left to call tool " + name));
        }
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(url).timeout(budget).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(input))).build();
        } catch (IOException e) {
            return CompletableFuture.completedFuture(ToolResult.error("tool input is not serializable"));
        }
        return http.sendAsync(request, info -> new CappedBody(maxResponseBytes))
                .thenApply(this::toResult)
                .exceptionally(this::failure);
    }

    private ToolResult toResult(HttpResponse<CappedBody.Body> response) {
        CappedBody.Body body = response.body();
        String text = body.text() + (body.truncated() ? "\n[response truncated at " + maxResponseBytes + " bytes]" : "");
        if (response.statusCode() / 100 != 2) {
            return ToolResult.error("tool " + name + " answered HTTP " + response.statusCode() + ": " + text);
        }
        return new ToolResult(text, false);
    }

    private ToolResult failure(Throwable t) {
        Throwable cause = Futures.unwrap(t);
        if (cause instanceof HttpTimeoutException) {
            return ToolResult.error("tool " + name + " timed out");
        }
        return ToolResult.error("tool " + name + " failed: " + cause.getClass().getSimpleName());
    }

    /** Reads at most {@code max} bytes, then cancels the rest of the body. */
    static final class CappedBody implements HttpResponse.BodySubscriber<CappedBody.Body> {
        record Body(String text, boolean truncated) {
        }

        private final int max;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final CompletableFuture<Body> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        CappedBody(int max) {
            this.max = max;
        }

        @Override
        public CompletionStage<Body> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                int room = max - buffer.size();
                int take = Math.min(room, b.remaining());
                byte[] bytes = new byte[take];
                b.get(bytes);
                buffer.write(bytes, 0, take);
                if (b.hasRemaining()) {
                    finish(true);
                    subscription.cancel();
                    return;
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            finish(false);
        }

        private void finish(boolean truncated) {
            result.complete(new Body(buffer.toString(StandardCharsets.UTF_8), truncated));
        }
    }
}
