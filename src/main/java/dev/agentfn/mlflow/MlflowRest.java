package dev.agentfn.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.Futures;
import dev.agentfn.mlflow.json.JsonValues;
import java.net.ConnectException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * How agentfn talks to one MLflow tracking server: its address and credentials, JSON calls, and MLflow's error
 * bodies turned into {@link MlflowClientException}. The clients by purpose — {@link MlflowTraceClient} (writing
 * traces), {@link MlflowTracking} (experiments, runs, assessments, datasets, trace reads) and {@link SignedUploads}
 * (cloud storage) — share one of these, built once per deployment.
 *
 * <p>Futures complete exceptionally with {@link MlflowClientException} on an error status or when the server
 * cannot be reached.
 */
public final class MlflowRest {
    private static final String USER_AGENT = "agentfn-mlflow-client";
    static final String JSON = "application/json";

    private final MlflowTarget target;
    private final MlflowHttp http;

    public MlflowRest(MlflowTarget target, MlflowHttp http) {
        this.target = target;
        this.http = http;
    }

    /** On a Vert.x instance of its own (tests, tools); the application passes its own transport. */
    public static MlflowRest standalone(MlflowTarget target) {
        return new MlflowRest(target, MlflowHttp.standalone());
    }

    public MlflowTarget target() {
        return target;
    }

    String url(String pathAndQuery) {
        return target.baseUri() + pathAndQuery;
    }

    /** Headers of every call to the tracking server (never of a signed cloud upload). */
    Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("User-Agent", USER_AGENT);
        target.auth().authorizationHeader().ifPresent(a -> h.put("Authorization", a));
        return h;
    }

    /** A JSON call; an empty answer reads as an empty object. */
    CompletableFuture<JsonNode> call(String method, String path, ObjectNode body) {
        String what = method + " " + stripQuery(path);
        Map<String, String> h = headers();
        h.put("Accept", JSON);
        byte[] bytes = null;
        if (body != null) {
            h.put("Content-Type", JSON);
            bytes = JsonValues.write(body).getBytes(StandardCharsets.UTF_8);
        }
        return send(method, url(path), h, bytes, what).thenApply(r -> {
            requireSuccess(r, what);
            return r.body().length == 0 ? JsonValues.MAPPER.createObjectNode() : JsonValues.parse(r.body());
        });
    }

    /** A GET whose "not found" is an answer: empty then, else the JSON. */
    CompletableFuture<Optional<JsonNode>> find(String path) {
        return call("GET", path, null)
                .thenApply(Optional::of)
                .exceptionally(t -> {
                    MlflowClientException e = asClientException(t, "GET " + stripQuery(path));
                    if (isNotFound(e)) {
                        return Optional.empty();
                    }
                    throw e;
                });
    }

    /** Any request; fails only when no answer came (the status is the caller's to judge). */
    CompletableFuture<MlflowHttp.Response> send(String method, String uri, Map<String, String> headers, byte[] body,
            String what) {
        CompletableFuture<MlflowHttp.Response> f;
        try {
            f = http.send(new MlflowHttp.Request(method, uri, headers, body, target.requestTimeout()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(transportFailure(e, what));
        }
        return f.exceptionally(t -> {
            throw transportFailure(t, what);
        });
    }

    static void requireSuccess(MlflowHttp.Response r, String what) {
        if (r.status() / 100 != 2) {
            ErrorBody err = ErrorBody.of(r.body());
            throw MlflowClientException.fromStatus(what + " -> " + r.status() + err.describe(), r.status(),
                    err.errorCode());
        }
    }

    private static MlflowClientException transportFailure(Throwable t, String what) {
        Throwable cause = Futures.unwrap(t);
        if (cause instanceof MlflowClientException e) {
            return e;
        }
        String kind = cause instanceof ConnectException ? "connection refused"
                : cause instanceof TimeoutException ? "timed out"
                : cause.getClass().getSimpleName();
        return new MlflowClientException(what + ": " + kind, MlflowClientException.NO_RESPONSE, null, true, cause);
    }

    /** Maps any failure of a future of these clients to the exception callers should see. */
    static MlflowClientException asClientException(Throwable t, String what) {
        Throwable cause = Futures.unwrap(t);
        if (cause instanceof MlflowClientException e) {
            return e;
        }
        return new MlflowClientException(what + ": " + cause, MlflowClientException.NO_RESPONSE, null, false, cause);
    }

    static boolean isNotFound(MlflowClientException e) {
        return e.status() == 404 || "RESOURCE_DOES_NOT_EXIST".equals(e.errorCode());
    }

    private static String stripQuery(String path) {
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    static String encodeSegment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String encodeQuery(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** MLflow's {@code {"error_code","message"}} or FastAPI's {@code {"detail"}}, if present. */
    record ErrorBody(String errorCode, String message) {
        private static final int MAX_MESSAGE = 300;

        static ErrorBody of(byte[] body) {
            if (body == null || body.length == 0) {
                return new ErrorBody(null, null);
            }
            try {
                JsonNode json = JsonValues.parse(body);
                String code = json.hasNonNull("error_code") ? json.get("error_code").asText() : null;
                String msg = json.hasNonNull("message") ? json.get("message").asText()
                        : json.has("detail") ? json.get("detail").toString() : null;
                return new ErrorBody(code, msg);
            } catch (RuntimeException notJson) {
                return new ErrorBody(null, new String(body, StandardCharsets.UTF_8));
            }
        }

        String describe() {
            StringBuilder sb = new StringBuilder();
            if (errorCode != null) {
                sb.append(' ').append(errorCode);
            }
            if (message != null && !message.isBlank()) {
                String m = message.strip();
                sb.append(": ").append(m.length() > MAX_MESSAGE ? m.substring(0, MAX_MESSAGE) + "…" : m);
            }
            return sb.toString();
        }
    }
}
