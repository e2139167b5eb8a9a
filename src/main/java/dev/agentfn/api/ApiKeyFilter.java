package dev.agentfn.api;

import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.config.Secrets;
import jakarta.ws.rs.container.ContainerRequestContext;
import java.security.MessageDigest;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Bearer API keys for {@code /v1/**} when any are configured; health, metrics and OpenAPI stay open.
 * Keys are compared as SHA-256 digests with {@link MessageDigest#isEqual}, so neither length nor
 * content leaks through timing. Behind an API gateway its authorizer may replace this.
 */
public class ApiKeyFilter {
    private final dev.agentfn.ApiKeys keys;

    public ApiKeyFilter(AgentfnConfig config) {
        this.keys = new dev.agentfn.ApiKeys(Secrets.apiKeys(config));
    }

    /** Whether the API is protected: keys (or a key file) are configured, so every {@code /v1/} request is authenticated. */
    public static boolean keysConfigured(AgentfnConfig config) {
        return config.auth().apiKeys().map(l -> l.stream().anyMatch(k -> !k.isBlank())).orElse(false)
                || config.auth().apiKeysFile().isPresent();
    }

    @ServerRequestFilter(preMatching = true)
    public jakarta.ws.rs.core.Response check(ContainerRequestContext ctx) {
        if (keys.isEmpty() || !ctx.getUriInfo().getPath().startsWith("/v1/")) {
            return null;
        }
        String header = ctx.getHeaderString("Authorization");
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) && keys.matches(header.substring(7).trim())) {
            return null;
        }
        Problem p = Problem.of(401, "unauthorized", "Unauthorized",
                header == null ? "send Authorization: Bearer <api key>" : "the API key is not valid");
        return ProblemMappers.response(p, Map.of("WWW-Authenticate", "Bearer"));
    }
}
