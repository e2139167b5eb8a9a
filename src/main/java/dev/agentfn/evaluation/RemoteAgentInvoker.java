package dev.agentfn.evaluation;

import dev.agentfn.Futures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.invocation.Recorder;
import dev.agentfn.invocation.Recording;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends each row to the deployed function itself ({@code POST <function-url>/v1/invocations}), so the
 * platform's concurrency (Lambda, Knative, Cloud Run) fans the rows out and the instance that runs a row
 * traces it. The request carries the run as {@link #SOURCE_RUN_HEADER}; the answer gives back what the
 * in-process path knows (trace and root span ids, usage, cost, latency, tools called).
 *
 * <p>Validation, engines and the default model are the local deployment's: it is the same function.
 * A row whose call fails without a trace (timeout, unreachable, a gateway's 5xx) gets a small trace of
 * its own here, with the source run and the error, so the row is scored, linked and counted like any
 * other failed row instead of being dropped.
 */
public final class RemoteAgentInvoker implements AgentInvoker {
    /** Header naming the evaluation run of a fanned-out row. */
    public static final String SOURCE_RUN_HEADER = dev.agentfn.invocation.InvocationHeaders.SOURCE_RUN;
    /** Response header with the trace's root span id. */
    public static final String ROOT_SPAN_HEADER = dev.agentfn.invocation.InvocationHeaders.ROOT_SPAN;

    private final Vertx vertx;
    private final HttpClient http;
    private final ObjectMapper json;
    private final AgentInvoker local;
    private final String uri;
    private final Optional<String> apiKey;
    private final Duration timeout;
    private final Recorder recorder;

    public RemoteAgentInvoker(Vertx vertx, ObjectMapper json, AgentInvoker local, URI functionUrl,
            Optional<String> apiKey, Duration timeout, Recorder recorder) {
        if (functionUrl.getHost() == null || !("http".equals(functionUrl.getScheme())
                || "https".equals(functionUrl.getScheme()))) {
            throw new IllegalArgumentException("agentfn.evaluation.function-url must be an http(s) URL with a host, got '"
                    + functionUrl + "'");
        }
        this.vertx = vertx;
        // One pool for all rows; the agent-concurrency limiter bounds what is in flight.
        this.http = vertx.createHttpClient(new HttpClientOptions().setName("agentfn-fan-out").setMaxPoolSize(1024)
                .setKeepAlive(true).setVerifyHost(true));
        this.json = json;
        this.local = local;
        String base = functionUrl.toString();
        this.uri = (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/v1/invocations";
        this.apiKey = apiKey.filter(k -> !k.isBlank());
        this.timeout = timeout;
        this.recorder = recorder;
    }

    @Override
    public void validate(ObjectNode inputs, String where) {
        local.validate(inputs, where);
    }

    @Override
    public Set<String> engines() {
        return local.engines();
    }

    @Override
    public String defaultModel() {
        return local.defaultModel();
    }

    @Override
    public CompletableFuture<Invocation> invoke(ObjectNode inputs, String engine, String sourceRunId) {
        long started = System.nanoTime();
        ObjectNode body = inputs.deepCopy().put("engine", engine);
        Buffer bytes;
        try {
            bytes = Buffer.buffer(json.writeValueAsBytes(body));
        } catch (IOException e) {
            return failedWithoutTrace(inputs, sourceRunId, started, "the row could not be serialized: " + e.getMessage());
        }
        return post(bytes, sourceRunId).handle((reply, err) -> err != null
                ? failedWithoutTrace(inputs, sourceRunId, started, "remote invocation " + uri + " failed: "
                        + Futures.message(err))
                : outcome(reply, inputs, sourceRunId, started)).thenCompose(f -> f);
    }

    /** What came back: status, root span header and body. */
    private record Reply(int status, String rootSpanId, Buffer body) {
    }

    private CompletableFuture<Reply> post(Buffer body, String sourceRunId) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().set("content-type", "application/json")
                .set("accept", "application/json").set(SOURCE_RUN_HEADER, sourceRunId);
        apiKey.ifPresent(k -> headers.set("authorization", "Bearer " + k));
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(uri).setHeaders(headers);
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
            if (reply.completeExceptionally(new java.util.concurrent.TimeoutException(
                    "no answer within " + timeout.toMillis() + " ms (agentfn.evaluation.function-timeout)"))) {
                Optional.ofNullable(sent.get()).ifPresent(HttpClientRequest::reset);
            }
        });
        reply.whenComplete((ok, err) -> vertx.cancelTimer(timer));
        vertx.getOrCreateContext().runOnContext(ignored -> http.request(options).compose(req -> {
            sent.set(req);
            // the body is subscribed to in send()'s own callback: see MlflowHttp#attempt
            return req.send(body).compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(),
                    resp.getHeader(ROOT_SPAN_HEADER), b)));
        }).onSuccess(reply::complete).onFailure(reply::completeExceptionally));
        return reply;
    }

    private CompletableFuture<Invocation> outcome(Reply reply, ObjectNode inputs, String sourceRunId, long started) {
        JsonNode doc;
        try {
            doc = json.readTree(reply.body().getBytes());
        } catch (IOException | RuntimeException e) {
            doc = null;
        }
        if (reply.status() == 200 && doc != null && doc.path("trace").hasNonNull("id")) {
            JsonNode u = doc.path("usage");
            long tokens = u.path("input_tokens").asLong(0) + u.path("output_tokens").asLong(0)
                    + u.path("cache_read_input_tokens").asLong(0) + u.path("cache_creation_input_tokens").asLong(0);
            List<String> tools = new ArrayList<>();
            doc.path("tools_called").forEach(t -> tools.add(t.asText()));
            String root = doc.path("trace").path("root_span_id").asText(reply.rootSpanId());
            return CompletableFuture.completedFuture(new Invocation(new RowOutcome(doc.path("trace").get("id").asText(),
                    doc.path("output").asText(null), null, doc.path("duration_ms").asLong(elapsedMs(started)),
                    doc.path("cost_usd").asDouble(0), tokens, tools), root));
        }
        String detail = doc != null && doc.hasNonNull("detail") ? doc.get("detail").asText()
                : "HTTP " + reply.status() + (reply.status() == 200 ? " without a trace id" : "");
        String why = reply.status() == 200 ? "remote invocation answered " + detail
                : "remote invocation failed (HTTP " + reply.status() + "): " + detail;
        if (doc != null && doc.hasNonNull("trace_id")) {
            // The function traced the failed row itself, as the in-process path does.
            return CompletableFuture.completedFuture(new Invocation(new RowOutcome(doc.get("trace_id").asText(), null,
                    why, elapsedMs(started), 0, 0, List.of()), reply.rootSpanId()));
        }
        return failedWithoutTrace(inputs, sourceRunId, started, why);
    }

    /** A trace for a row the function never traced: the error has a place and the row is linked to the run. */
    private CompletableFuture<Invocation> failedWithoutTrace(ObjectNode inputs, String sourceRunId, long started,
            String why) {
        Map<String, Object> in = new LinkedHashMap<>(json.convertValue(inputs, Map.class));
        Recording trace = recorder.start("agent_invocation", MlflowKeys.SpanType.AGENT)
                .inputs(in).attribute("agentfn.function_url", uri)
                .metadata(MlflowKeys.Metadata.SOURCE_RUN, sourceRunId)
                .metadata(MlflowKeys.Metadata.SOURCE_NAME, "agentfn")
                .metadata(MlflowKeys.Metadata.SOURCE_TYPE, "SERVICE")
                .requestPreview(inputs.path("prompt").asText(""))
                .error("RemoteInvocationFailed", why).outputs(Map.of("status", "error", "error", why))
                .responsePreview(why);
        return trace.deliver().thenApply(delivered -> new Invocation(
                new RowOutcome(trace.traceId(), null, why, elapsedMs(started), 0, 0, List.of()), trace.rootSpanId()));
    }

    private static long elapsedMs(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }
}
