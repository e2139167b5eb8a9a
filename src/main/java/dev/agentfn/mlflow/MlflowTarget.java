package dev.agentfn.mlflow;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * Where and how to reach one MLflow tracking server. Immutable; {@link #toString()} never shows
 * credentials.
 *
 * @param baseUri tracking URI, e.g. {@code http://127.0.0.1:5000} (a trailing slash is dropped)
 * @param databricks true for a Databricks workspace: spans go as {@code traces.json} through
 *     signed URLs instead of OTLP, like MLflow's own Python exporter does
 * @param requestTimeout per-request timeout, connect included
 */
public record MlflowTarget(URI baseUri, Auth auth, boolean databricks, Duration requestTimeout) {

    public MlflowTarget {
        Objects.requireNonNull(baseUri, "baseUri");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        String s = baseUri.toString();
        baseUri = s.endsWith("/") ? URI.create(s.substring(0, s.length() - 1)) : baseUri;
    }

    /** An unauthenticated OSS server with a 30 s request timeout. */
    public static MlflowTarget of(String uri) {
        return new MlflowTarget(URI.create(uri), Auth.NONE, false, Duration.ofSeconds(30));
    }

    public MlflowTarget withAuth(Auth newAuth) {
        return new MlflowTarget(baseUri, newAuth, databricks, requestTimeout);
    }

    public MlflowTarget withRequestTimeout(Duration timeout) {
        return new MlflowTarget(baseUri, auth, databricks, timeout);
    }

    public MlflowTarget asDatabricks() {
        return new MlflowTarget(baseUri, auth, true, requestTimeout);
    }

    /**
     * The server as a name that is safe to store and show: scheme, host, port and path, without user info,
     * query or fragment (a tracking URI may carry credentials as {@code user:password@}).
     */
    public String label() {
        URI u = baseUri;
        String port = u.getPort() < 0 ? "" : ":" + u.getPort();
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        String host = u.getHost() == null ? "" : u.getHost().toLowerCase(java.util.Locale.ROOT);
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT) + "://";
        return scheme + host + port + path;
    }

    @Override
    public String toString() {
        return "MlflowTarget[" + baseUri + ", auth=" + auth + ", databricks=" + databricks
                + ", timeout=" + requestTimeout + "]";
    }

    /** Credentials sent as the {@code Authorization} header of every MLflow call. */
    public sealed interface Auth permits NoAuth, BasicAuth, BearerToken {
        Auth NONE = new NoAuth();

        Optional<String> authorizationHeader();

        static Auth basic(String user, String password) {
            return new BasicAuth(user, password);
        }

        static Auth bearer(String token) {
            return new BearerToken(token);
        }
    }

    public record NoAuth() implements Auth {
        @Override
        public Optional<String> authorizationHeader() {
            return Optional.empty();
        }
    }

    public record BasicAuth(String user, String password) implements Auth {
        public BasicAuth {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
        }

        @Override
        public Optional<String> authorizationHeader() {
            String raw = user + ":" + password;
            return Optional.of("Basic " + Base64.getEncoder().encodeToString(raw.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public String toString() {
            return "BasicAuth[user=" + user + ", password=***]";
        }
    }

    public record BearerToken(String token) implements Auth {
        public BearerToken {
            Objects.requireNonNull(token, "token");
        }

        @Override
        public Optional<String> authorizationHeader() {
            return Optional.of("Bearer " + token);
        }

        @Override
        public String toString() {
            return "BearerToken[***]";
        }
    }
}
