package dev.agentfn.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowApi.OtlpExportResult;
import dev.agentfn.mlflow.MlflowApi.StartTraceResult;
import dev.agentfn.mlflow.MlflowApi.UploadCredential;
import dev.agentfn.mlflow.MlflowRest.ErrorBody;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.json.TraceInfoJson;
import dev.agentfn.mlflow.json.TracesJson;
import dev.agentfn.mlflow.otlp.OtlpProtobufEncoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPOutputStream;

/**
 * The MLflow endpoints that write a trace: OTLP span ingest, StartTraceV3, {@code traces.json} through the
 * artifact proxy or (Databricks) a signed URL. {@link MlflowTraceWriter} decides which to use.
 *
 * <p>{@link #logSpansOtlp} reports every outcome in its result, because "unsupported" is an expected answer
 * that selects the fallback path; the others complete exceptionally with {@link MlflowClientException}.
 */
public final class MlflowTraceClient {
    private static final int GZIP_THRESHOLD_BYTES = 1024;
    private static final String ARTIFACTS_SCHEME = "mlflow-artifacts";

    private final MlflowRest rest;
    private final SignedUploads signed;
    private final OtlpProtobufEncoder encoder = new OtlpProtobufEncoder();
    private final Map<String, String> resourceAttributes;
    private final String scopeName;

    public MlflowTraceClient(MlflowRest rest) {
        this(rest, Map.of("service.name", "agentfn"), "agentfn");
    }

    /**
     * @param resourceAttributes OTLP resource attributes of every export (e.g. service.name)
     * @param scopeName OTLP instrumentation scope name
     */
    public MlflowTraceClient(MlflowRest rest, Map<String, String> resourceAttributes, String scopeName) {
        this.rest = rest;
        this.signed = new SignedUploads(rest);
        this.resourceAttributes = Map.copyOf(resourceAttributes);
        this.scopeName = scopeName;
    }

    public MlflowTarget target() {
        return rest.target();
    }

    /**
     * {@code POST /v1/traces} with the spans as OTLP protobuf.
     *
     * @param runId nullable; sent as {@code x-mlflow-run-id}, which links traces whose root span
     *     is in the batch to the run
     * @return never completes exceptionally except for invalid span ids
     */
    public CompletableFuture<OtlpExportResult> logSpansOtlp(String experimentId, String runId, List<SpanData> spans) {
        byte[] fragment;
        try {
            fragment = encodeSpans(spans);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return logEncodedSpansOtlp(experimentId, runId, List.of(fragment));
    }

    /** The spans encoded for {@link #logEncodedSpansOtlp}; throws for invalid span ids. */
    public byte[] encodeSpans(List<SpanData> spans) {
        return encoder.encodeSpans(spans);
    }

    /**
     * {@code POST /v1/traces} with spans encoded by {@link #encodeSpans}, several traces' in one
     * request (MLflow stores one request in one transaction). Never completes exceptionally.
     */
    public CompletableFuture<OtlpExportResult> logEncodedSpansOtlp(String experimentId, String runId,
            List<byte[]> spanFragments) {
        byte[] body = encoder.encodeRequest(spanFragments, resourceAttributes, scopeName);
        Map<String, String> h = rest.headers();
        h.put("Content-Type", "application/x-protobuf");
        h.put(MlflowKeys.Header.EXPERIMENT_ID, experimentId);
        if (runId != null && !runId.isBlank()) {
            h.put(MlflowKeys.Header.RUN_ID, runId);
        }
        if (body.length > GZIP_THRESHOLD_BYTES) {
            h.put("Content-Encoding", "gzip");
            body = gzip(body);
        }
        String what = "POST /v1/traces";
        return rest.send("POST", rest.url("/v1/traces"), h, body, what)
                .thenApply(r -> otlpResult(r, what))
                .exceptionally(t -> {
                    MlflowClientException e = MlflowRest.asClientException(t, what);
                    return OtlpExportResult.failed(e.status(), e.getMessage());
                });
    }

    private static OtlpExportResult otlpResult(MlflowHttp.Response r, String what) {
        int status = r.status();
        if (status / 100 == 2) {
            return OtlpExportResult.ok();
        }
        ErrorBody err = ErrorBody.of(r.body());
        String message = what + " -> " + status + err.describe();
        // A 404 carrying an MLflow error_code is a real answer (unknown experiment); a bare 404
        // means the route does not exist on this server (older MLflow, Flask-only deployment).
        boolean missingRoute = status == 404 && err.errorCode() == null;
        if (status == 501 || missingRoute) {
            return OtlpExportResult.unsupported(status, message);
        }
        return OtlpExportResult.failed(status, message);
    }

    /** StartTraceV3: creates or finalizes the trace's info. Upsert, so a retry is safe. */
    public CompletableFuture<StartTraceResult> startTraceV3(TraceInfo info) {
        return rest.call("POST", "/api/3.0/mlflow/traces", TraceInfoJson.startTraceBody(info))
                .thenApply(json -> new StartTraceResult(TraceInfoJson.parseTraceResponse(json)));
    }

    /** The stored {@code trace_info} JSON, or empty if the server has no such trace (a retry's question). */
    public CompletableFuture<Optional<JsonNode>> storedTraceInfo(String traceId) {
        return rest.find(MlflowApi.traceInfoPath(traceId)).thenApply(json -> json.map(MlflowApi::traceInfoOf));
    }

    /**
     * Uploads {@code traces.json} through the tracking server's artifact proxy.
     *
     * @param artifactLocation the trace's {@code mlflow.artifactLocation} tag, which must use the
     *     {@code mlflow-artifacts:} scheme (a server started with artifact serving)
     */
    public CompletableFuture<Void> uploadTracesJson(String artifactLocation, String traceId, List<SpanData> spans) {
        String what = "PUT traces.json of " + traceId;
        String path;
        byte[] body;
        try {
            path = "/api/2.0/mlflow-artifacts/artifacts" + artifactPath(artifactLocation) + "/traces.json";
            body = TracesJson.encode(spans);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new MlflowClientException(
                    what + ": " + e.getMessage(), MlflowClientException.NO_RESPONSE, null, false, e));
        }
        Map<String, String> h = rest.headers();
        h.put("Content-Type", MlflowRest.JSON);
        return rest.send("PUT", rest.url(path), h, body, what).thenApply(r -> {
            MlflowRest.requireSuccess(r, what);
            return null;
        });
    }

    /** The path inside the artifact proxy, e.g. {@code /1/traces/tr-…/artifacts}. */
    static String artifactPath(String artifactLocation) {
        if (artifactLocation == null || artifactLocation.isBlank()) {
            throw new IllegalArgumentException("the trace has no artifact location");
        }
        URI uri = URI.create(artifactLocation);
        if (!ARTIFACTS_SCHEME.equals(uri.getScheme())) {
            throw new IllegalArgumentException("artifact location scheme '" + uri.getScheme()
                    + "' is not served by the tracking server; only mlflow-artifacts: is supported");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        StringBuilder out = new StringBuilder();
        for (String segment : path.split("/")) {
            if (!segment.isEmpty()) {
                out.append('/').append(MlflowRest.encodeSegment(segment));
            }
        }
        return out.toString();
    }

    /** Databricks: a signed URL for the trace's {@code traces.json}. */
    public CompletableFuture<UploadCredential> getTraceUploadCredential(String traceId) {
        String path = "/api/2.0/mlflow/traces/" + MlflowRest.encodeSegment(traceId) + "/credentials-for-data-upload";
        return rest.call("GET", path, null).thenApply(UploadCredential::fromJson);
    }

    /** Databricks path: fetch a signed URL for the trace and upload {@code traces.json} to it. */
    public CompletableFuture<Void> uploadTracesDatabricks(String traceId, List<SpanData> spans) {
        byte[] body;
        try {
            body = TracesJson.encode(spans);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return getTraceUploadCredential(traceId).thenCompose(cred -> signed.upload(cred, body));
    }

    private static byte[] gzip(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
