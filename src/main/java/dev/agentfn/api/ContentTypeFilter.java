package dev.agentfn.api;

import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Locale;
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
     * Why the {@code Content-Type} values are not one {@code application/json} in UTF-8, or null when they are.
     * The value is read by RFC 9110's grammar: {@code type "/" subtype *( OWS ";" OWS [ parameter ] )}, a parameter
     * a token, {@code =}, and a token or a closed quoted string; empty parameters ({@code ;;}) are allowed there.
     */
    static String contentTypeProblem(List<String> values) {
        if (values == null || values.isEmpty() || values.stream().allMatch(v -> v == null || v.isBlank())) {
            return "the request has no Content-Type";
        }
        if (values.size() > 1) {
            return "the request has several Content-Type values";
        }
        String v = values.get(0);
        int semi = v.indexOf(';');
        String type = (semi < 0 ? v : v.substring(0, semi)).strip();
        if (type.contains(",")) {
            return "the request has several Content-Type values";
        }
        if (!type.toLowerCase(Locale.ROOT).equals(JSON)) {
            return "Content-Type '" + shorten(type) + "' is not " + JSON;
        }
        return semi < 0 ? null : parametersProblem(v, semi);
    }

    /** Walks the parameters from the {@code ;} at {@code i}: malformed, a list, or a charset other than UTF-8. */
    private static String parametersProblem(String v, int i) {
        while (i < v.length()) {
            i = skipWhiteSpace(v, i);
            if (i == v.length()) {
                return null;
            }
            if (v.charAt(i) == ',') {
                return "the request has several Content-Type values";
            }
            if (v.charAt(i) != ';') {
                return "the Content-Type '" + shorten(v) + "' is malformed after its parameters";
            }
            i = skipWhiteSpace(v, i + 1);
            if (i == v.length() || v.charAt(i) == ';') {
                continue; // an empty parameter
            }
            int nameEnd = tokenEnd(v, i);
            if (nameEnd == i || nameEnd == v.length() || v.charAt(nameEnd) != '=') {
                return "the Content-Type parameter '" + shorten(v.substring(i)) + "' is malformed";
            }
            String name = v.substring(i, nameEnd);
            int valueStart = nameEnd + 1;
            int valueEnd = valueStart < v.length() && v.charAt(valueStart) == '"' ? quotedEnd(v, valueStart)
                    : tokenEnd(v, valueStart);
            if (valueEnd <= valueStart) {
                return "the Content-Type parameter '" + shorten(v.substring(i)) + "' is malformed";
            }
            String value = unquote(v.substring(valueStart, valueEnd));
            if (name.equalsIgnoreCase("charset") && !value.equalsIgnoreCase("utf-8")) {
                return "charset '" + shorten(value) + "' is not UTF-8";
            }
            i = valueEnd;
        }
        return null;
    }

    private static int skipWhiteSpace(String v, int i) {
        while (i < v.length() && (v.charAt(i) == ' ' || v.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    private static int tokenEnd(String v, int i) {
        while (i < v.length() && token(v.charAt(i)) && v.charAt(i) != '/') {
            i++;
        }
        return i;
    }

    /** The index after the closing quote of the quoted string opening at {@code i}, or -1 when it never closes. */
    private static int quotedEnd(String v, int i) {
        for (int j = i + 1; j < v.length(); j++) {
            char c = v.charAt(j);
            if (c == '\\') {
                j++; // quoted-pair
            } else if (c == '"') {
                return j + 1;
            } else if (c < ' ' && c != '\t' || c == 127) {
                return -1;
            }
        }
        return -1;
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
                        || !type.chars().allMatch(ContentTypeFilter::token)) {
                    return "the Accept entry '" + shorten(range.strip()) + "' is not a media range; accept "
                            + JSON + " or text/event-stream";
                }
            }
        }
        return null;
    }

    /** RFC 9110 token characters, plus the slash between type and subtype. */
    private static boolean token(int c) {
        return c == '/' || (c > 32 && c < 127 && "()<>@,;:\\\"[]?={}".indexOf(c) < 0);
    }

    /** A quoted string's content (its quoted pairs resolved), or the token itself. */
    private static String unquote(String s) {
        if (!s.startsWith("\"")) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int j = 1; j < s.length() - 1; j++) {
            char c = s.charAt(j);
            b.append(c == '\\' && j + 1 < s.length() - 1 ? s.charAt(++j) : c);
        }
        return b.toString();
    }

    private static String shorten(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "…" : s;
    }
}
