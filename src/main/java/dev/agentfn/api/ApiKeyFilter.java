package dev.agentfn.api;

import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.config.Secrets;
import jakarta.ws.rs.container.ContainerRequestContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Bearer API keys for {@code /v1/**} when any are configured; health, metrics and OpenAPI stay open.
 * Keys are compared as SHA-256 digests with {@link MessageDigest#isEqual}, so neither length nor
 * content leaks through timing. Behind an API gateway its authorizer may replace this.
 */
public class ApiKeyFilter {
    private final List<byte[]> digests;

    public ApiKeyFilter(AgentfnConfig config) {
        this.digests = Secrets.apiKeys(config).stream().map(ApiKeyFilter::sha256).toList();
    }

    /** Whether the API is protected: keys (or a key file) are configured, so every {@code /v1/} request is authenticated. */
    public static boolean keysConfigured(AgentfnConfig config) {
        return config.auth().apiKeys().map(l -> l.stream().anyMatch(k -> !k.isBlank())).orElse(false)
                || config.auth().apiKeysFile().isPresent();
    }

    @ServerRequestFilter(preMatching = true)
    public jakarta.ws.rs.core.Response check(ContainerRequestContext ctx) {
        if (digests.isEmpty() || !ctx.getUriInfo().getPath().startsWith("/v1/")) {
            return null;
        }
        String header = ctx.getHeaderString("Authorization");
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) && known(header.substring(7).trim())) {
            return null;
        }
        Problem p = Problem.of(401, "unauthorized", "Unauthorized",
                header == null ? "send Authorization: Bearer <api key>" : "the API key is not valid");
        return ProblemMappers.response(p, Map.of("WWW-Authenticate", "Bearer"));
    }

    private boolean known(String presented) {
        byte[] d = sha256(presented);
        boolean match = false;
        for (byte[] k : digests) {
            match |= MessageDigest.isEqual(k, d);
        }
        return match;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
