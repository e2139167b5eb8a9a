package dev.agentfn.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Allow} header of a 405 (RFC 9110 requires it; JAX-RS' own 405 carries none), taken from the
 * OpenAPI document generated from the resources at build time: the header lists exactly what the API documents.
 */
final class AllowedMethods {
    private static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    private static final Pattern PARAMETER = Pattern.compile("\\{[^}/]+}");

    private record Entry(Pattern path, String allow) {
    }

    private final List<Entry> entries;

    private AllowedMethods(List<Entry> entries) {
        this.entries = entries;
    }

    /** Read once, on the first 405. */
    private static final class Holder {
        static final AllowedMethods INSTANCE = load(OpenApiRoute.jsonDocument());
    }

    static Optional<String> allow(String path) {
        return Holder.INSTANCE.entries.stream().filter(e -> e.path.matcher(path).matches()).map(Entry::allow)
                .findFirst();
    }

    static AllowedMethods load(byte[] document) {
        List<Entry> entries = new ArrayList<>();
        if (document == null) {
            return new AllowedMethods(entries);
        }
        try {
            new ObjectMapper().readTree(document).path("paths").fields().forEachRemaining(p -> {
                Set<String> methods = new LinkedHashSet<>();
                for (String m : METHODS) {
                    // JAX-RS answers HEAD wherever it answers GET
                    if (p.getValue().has(m.toLowerCase(Locale.ROOT)) || m.equals("HEAD") && p.getValue().has("get")) {
                        methods.add(m);
                    }
                }
                entries.add(new Entry(template(p.getKey()), String.join(", ", methods)));
            });
        } catch (IOException e) {
            throw new IllegalStateException("the built-in OpenAPI document is not JSON", e);
        }
        return new AllowedMethods(entries);
    }

    /** {@code /v1/evaluations/{id}} matches one path segment where the parameter is. */
    private static Pattern template(String path) {
        StringBuilder regex = new StringBuilder();
        Matcher m = PARAMETER.matcher(path);
        int last = 0;
        while (m.find()) {
            regex.append(Pattern.quote(path.substring(last, m.start()))).append("[^/]+");
            last = m.end();
        }
        return Pattern.compile(regex.append(Pattern.quote(path.substring(last))).toString());
    }
}
