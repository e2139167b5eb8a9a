package dev.agentfn.api;

import dev.agentfn.MediaType;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Every body sent to {@code /v1/**} is {@code application/json} in UTF-8, said exactly once; anything else is a
 * 415 problem that says what is wrong. Checked on the raw header before JAX-RS parses it: a missing, empty,
 * repeated or unparsable {@code Content-Type} (or {@code Accept}) would otherwise be matched leniently
 * ({@code *}{@code /*}) or fail inside the media-type parser as a 500.
 */
public class ContentTypeFilter {
    private static final Set<String> WITH_BODY = Set.of("POST", "PUT", "PATCH");
    private static final String JSON = "application/json";

    // After ApiKeyFilter (Priorities.USER): an unauthenticated caller learns nothing about the body rules.
    @ServerRequestFilter(preMatching = true, priority = Priorities.USER + 100)
    public Response check(ContainerRequestContext ctx) {
        if (!ctx.getUriInfo().getPath().startsWith("/v1/")) {
            return null;
        }
        String acceptProblem = acceptProblem(ctx.getHeaders().get(HttpHeaders.ACCEPT));
        if (acceptProblem != null) {
            return ProblemMappers.response(Problem.of(406, "not-acceptable", "Not Acceptable", acceptProblem), Map.of());
        }
        if (!WITH_BODY.contains(ctx.getMethod())) {
            return null;
        }
        String problem = contentTypeProblem(ctx.getHeaders().get(HttpHeaders.CONTENT_TYPE));
        if (problem != null) {
            return ProblemMappers.response(Problem.of(415, "unsupported-media-type", "Unsupported Media Type",
                    problem + "; send the body as Content-Type: application/json (UTF-8)"), Map.of());
        }
        // What JAX-RS matches on is now exactly what the body was checked against.
        ctx.getHeaders().putSingle(HttpHeaders.CONTENT_TYPE, JSON);
        return null;
    }

    /**
     * Why the {@code Content-Type} values are not one {@code application/json} in UTF-8, or null when they are,
     * read by RFC 9110's grammar ({@link MediaType}).
     */
    static String contentTypeProblem(List<String> values) {
        if (values == null || values.isEmpty() || values.stream().allMatch(v -> v == null || v.isBlank())) {
            return "the request has no Content-Type";
        }
        if (values.size() > 1) {
            return "the request has several Content-Type values";
        }
        List<MediaType> types = MediaType.parseAll(values.get(0));
        if (types.size() > 1) {
            return "the request has several Content-Type values";
        }
        MediaType type = types.get(0);
        if (!type.type().equalsIgnoreCase(JSON)) {
            return "Content-Type '" + shorten(type.type()) + "' is not " + JSON;
        }
        if (!type.wellFormed()) {
            return "the Content-Type " + type.problem();
        }
        return type.parameterValues("charset").stream().filter(c -> !c.equalsIgnoreCase("utf-8")).findFirst()
                .map(c -> "charset '" + shorten(c) + "' is not UTF-8").orElse(null);
    }

    /**
     * Accept is optional; when present each entry must at least look like a media range, so content
     * negotiation never meets a value its parser rejects.
     */
    static String acceptProblem(List<String> values) {
        if (values == null) {
            return null;
        }
        for (String v : values) {
            for (String range : v.split(",", -1)) {
                String type = range.split(";", -1)[0].strip();
                int slash = type.indexOf('/');
                if (type.isEmpty() && values.size() == 1 && v.isBlank()) {
                    continue; // an empty Accept means "anything"
                }
                if (slash < 1 || slash == type.length() - 1 || type.indexOf('/', slash + 1) >= 0
                        || !type.chars().allMatch(c -> c == '/' || MediaType.isToken(c))) {
                    return "the Accept entry '" + shorten(range.strip()) + "' is not a media range; accept "
                            + JSON + " or text/event-stream";
                }
            }
        }
        return null;
    }

    private static String shorten(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "…" : s;
    }
}
