package dev.agentfn.evaluation;

import dev.agentfn.Futures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.MlflowApi.TracePage;
import dev.agentfn.mlflow.MlflowTracking;
import dev.agentfn.mlflow.MlflowKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Online monitoring: picks recent production traces of an MLflow experiment (a {@code search_traces}
 * filter, a time window, a sampling rate) and turns each into a row whose agent outcome is read from
 * the trace instead of being produced again. A trace scored by a monitor carries tag
 * {@code agentfn.monitor.<name>} (the run id) and is skipped by that monitor's later runs; sampling
 * hashes the trace id, so a trace left out once is left out every time, not re-drawn.
 */
public final class TraceSampler {
    static final String MONITOR_TAG = "agentfn.monitor.";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = 500;

    /** What to sample. @param filter a {@code search_traces} filter, or {@code null} */
    public record Spec(String filter, Duration window, double sample, int maxTraces) {
    }

    private final MlflowTracking mlflow;
    private final Duration timeout;

    public TraceSampler(MlflowTracking mlflow, Duration timeout) {
        this.mlflow = mlflow;
        this.timeout = timeout;
    }

    /** The tag a monitor named {@code name} leaves on the traces it scored. */
    public static String tagFor(String name) {
        return MONITOR_TAG + name.replaceAll("[^A-Za-z0-9_.\\-]", "_");
    }

    static String describe(Spec spec) {
        return "traces: " + (spec.filter() == null ? "all" : spec.filter()) + "; window " + spec.window()
                + "; sample " + spec.sample();
    }

    /** Blocks (file datasets are read the same way, before any run exists). */
    public Dataset select(String experimentId, Spec spec, String monitor) {
        long since = System.currentTimeMillis() - spec.window().toMillis();
        String time = "trace.timestamp_ms > " + since;
        String filter = spec.filter() == null || spec.filter().isBlank() ? time : spec.filter() + " AND " + time;
        List<JsonNode> picked = new ArrayList<>();
        try {
            page(experimentId, filter, null, spec, tagFor(monitor), monitor, picked).get(timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            List<DatasetRow> rows = new ArrayList<>();
            for (JsonNode info : picked) {
                String traceId = info.path("trace_id").asText();
                JsonNode trace = mlflow.getTrace(traceId).get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .orElseThrow(() -> new EvaluationException("trace " + traceId + " vanished while sampling"));
                rows.add(row(rows.size(), info, trace.path("spans")));
            }
            return new Dataset(describe(spec), rows);
        } catch (java.util.concurrent.ExecutionException e) {
            String why = Futures.message(e.getCause());
            if (why.contains("INVALID_PARAMETER_VALUE") || why.contains("-> 400")) {
                throw new EvaluationException("dataset.traces.filter: MLflow rejected the filter: " + why);
            }
            throw new IllegalStateException("searching traces in MLflow failed: " + why, e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("searching traces in MLflow took longer than " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while searching traces");
        }
    }

    private CompletableFuture<Void> page(String experimentId, String filter, String token, Spec spec, String tag,
            String monitor, List<JsonNode> picked) {
        return mlflow.searchTraces(experimentId, filter, PAGE, token).thenCompose((TracePage page) -> {
            for (JsonNode info : page.traceInfos()) {
                if (picked.size() >= spec.maxTraces()) {
                    return CompletableFuture.completedFuture(null);
                }
                if (eligible(info, tag) && sampled(info.path("trace_id").asText(), monitor, spec.sample())) {
                    picked.add(info);
                }
            }
            return page.nextPageToken() == null ? CompletableFuture.completedFuture(null)
                    : page(experimentId, filter, page.nextPageToken(), spec, tag, monitor, picked);
        });
    }

    /** Not yet scored by this monitor, finished, and a user's invocation (not an evaluation row or judge call). */
    private static boolean eligible(JsonNode info, String tag) {
        JsonNode metadata = info.path("trace_metadata");
        String state = info.path("state").asText("");
        return !info.path("tags").has(tag) && !metadata.has(MlflowKeys.Metadata.SOURCE_RUN)
                && !info.path("tags").has(MlflowKeys.Tag.SOURCE_SCORER)
                && (state.equals("OK") || state.equals("ERROR"));
    }

    static boolean sampled(String traceId, String monitor, double rate) {
        if (rate >= 1.0) {
            return true;
        }
        byte[] h = sha256((monitor + "/" + traceId).getBytes(StandardCharsets.UTF_8));
        long bucket = ((h[0] & 0xffL) << 16 | (h[1] & 0xffL) << 8 | (h[2] & 0xffL)) % 1_000_000;
        return bucket < rate * 1_000_000;
    }

    private static byte[] sha256(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A trace as a row: inputs and output from the root span, usage and cost from the trace metadata. */
    static DatasetRow row(int index, JsonNode info, JsonNode spans) {
        String traceId = info.path("trace_id").asText();
        JsonNode root = null;
        List<String> tools = new ArrayList<>();
        for (JsonNode s : spans) {
            if (s.path("parent_span_id").asText("").isEmpty()) {
                root = s;
            }
            if ("TOOL".equals(attribute(s, MlflowKeys.Span.TYPE).asText())) {
                JsonNode name = attribute(s, "tool_name");
                tools.add(name.isMissingNode() ? s.path("name").asText() : name.asText());
            }
        }
        JsonNode inputs = root == null ? JSON.missingNode() : attribute(root, MlflowKeys.Span.INPUTS);
        JsonNode outputs = root == null ? JSON.missingNode() : attribute(root, MlflowKeys.Span.OUTPUTS);
        ObjectNode in = inputs.isObject() ? ((ObjectNode) inputs).deepCopy() : JSON.createObjectNode();
        if (!in.has("prompt") && !in.has("messages")) {
            in.put("prompt", info.path("request_preview").asText(""));
        }
        boolean error = "ERROR".equals(info.path("state").asText());
        String output = outputs.path("response").isTextual() ? outputs.path("response").asText()
                : error ? null : info.path("response_preview").asText(null);
        String why = error ? outputs.path("error").asText("the trace's state is ERROR") : null;
        JsonNode metadata = info.path("trace_metadata");
        double cost = parse(metadata.path(MlflowKeys.Metadata.COST).asText("{}")).path(MlflowKeys.Usage.TOTAL_COST)
                .asDouble();
        long tokens = parse(metadata.path(MlflowKeys.Metadata.TOKEN_USAGE).asText("{}"))
                .path(MlflowKeys.Usage.TOTAL_TOKENS).asLong();
        RowOutcome outcome = new RowOutcome(traceId, output, why, durationMs(info.path("execution_duration").asText()),
                cost, tokens, tools);
        String rootSpanId = root == null ? null : spanId(root.path("span_id").asText());
        return new DatasetRow(index, "trace " + traceId, in, JSON.createObjectNode(),
                new AgentInvoker.Invocation(outcome, rootSpanId));
    }

    /** Span attributes come as OTLP key/values whose string values hold JSON (MLflow's span attribute encoding). */
    private static JsonNode attribute(JsonNode span, String key) {
        for (JsonNode kv : span.path("attributes")) {
            if (key.equals(kv.path("key").asText())) {
                JsonNode v = kv.path("value");
                if (v.has("string_value")) {
                    JsonNode parsed = parse(v.get("string_value").asText());
                    return parsed.isMissingNode() ? JSON.getNodeFactory().textNode(v.get("string_value").asText())
                            : parsed;
                }
                return v.elements().hasNext() ? v.elements().next() : JSON.missingNode();
            }
        }
        return JSON.missingNode();
    }

    private static JsonNode parse(String s) {
        try {
            JsonNode n = JSON.readTree(s);
            return n == null ? JSON.missingNode() : n;
        } catch (java.io.IOException e) {
            return JSON.missingNode();
        }
    }

    /** OTLP JSON carries span ids base64-encoded; MLflow assessments want 16 hex digits. */
    static String spanId(String id) {
        if (id.matches("[0-9a-f]{16}")) {
            return id;
        }
        try {
            return HexFormat.of().formatHex(Base64.getDecoder().decode(id));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Protobuf JSON durations: {@code "1.250s"}. */
    static long durationMs(String d) {
        if (d == null || !d.endsWith("s")) {
            return 0;
        }
        try {
            return Math.round(Double.parseDouble(d.substring(0, d.length() - 1)) * 1000);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
