package dev.agentfn.tracing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What may be recorded: redaction of every string, a size cap per string, and whether prompt and
 * answer content is recorded at all. Applied once, when a value enters a span.
 */
public final class AttributePolicy {
    public static final String REDACTED = dev.agentfn.config.Secrets.REDACTED;
    /** Shapes of Anthropic, Databricks and AWS keys: redacted even when nobody configured a pattern. */
    private static final List<Pattern> BUILT_IN = List.of(
            Pattern.compile("sk-ant-[A-Za-z0-9_\\-]{8,}"),
            Pattern.compile("dapi[0-9a-f]{32}"),
            Pattern.compile("AKIA[0-9A-Z]{16}"));

    private final boolean recordContent;
    private final int maxChars;
    /** Every pattern as one alternation: one scan per string instead of one per pattern. */
    private final Pattern combined;
    /**
     * Literal text every match must contain (built-in prefixes, configured secrets), or empty when a
     * configured pattern has none: then every string goes through the regex. {@code indexOf} is far
     * cheaper than a regex scan, and almost no string contains a secret.
     */
    private final List<String> needles;

    private AttributePolicy(AttributePolicy other, boolean recordContent) {
        this.recordContent = recordContent;
        this.maxChars = other.maxChars;
        this.combined = other.combined;
        this.needles = other.needles;
    }

    public AttributePolicy(boolean recordContent, int maxChars, List<String> patterns, List<String> secrets) {
        this.recordContent = recordContent;
        this.maxChars = maxChars;
        List<String> all = new ArrayList<>();
        BUILT_IN.forEach(p -> all.add(p.pattern()));
        patterns.forEach(p -> all.add(Pattern.compile(p).pattern()));
        secrets.stream().filter(s -> s != null && s.length() >= 4).forEach(s -> all.add(Pattern.quote(s)));
        this.combined = Pattern.compile(all.stream().map(p -> "(?:" + p + ")").collect(Collectors.joining("|")));
        List<String> literal = new ArrayList<>(List.of("sk-ant-", "dapi", "AKIA"));
        secrets.stream().filter(s -> s != null && s.length() >= 4).forEach(literal::add);
        this.needles = patterns.isEmpty() ? List.copyOf(literal) : List.of();
    }

    /** The same redaction, with content recorded or not. */
    public AttributePolicy withContent(boolean record) {
        return new AttributePolicy(this, record);
    }

    public boolean recordContent() {
        return recordContent;
    }

    /**
     * A value already cleaned by {@link #clean} (see {@link ActiveTrace#cleaned}): used as it is, so a part shared
     * by many spans (a conversation's messages) is redacted, capped and copied once, not once per span.
     */
    public record Cleaned(Object value) {
    }

    /** A copy of a JSON-able value with every string redacted and capped. */
    public Object clean(Object value) {
        if (value instanceof Cleaned c) {
            return c.value();
        }
        if (value instanceof String s) {
            return cap(redact(s));
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>(map.size() * 2);
            map.forEach((k, v) -> {
                if (v != null) {
                    out.put(String.valueOf(k), clean(v));
                }
            });
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(v == null ? "" : clean(v)));
            return out;
        }
        return value;
    }

    /**
     * A JSON tree as maps, lists and scalars, every string redacted and capped: what {@code clean(SpanShapes.plain(node))}
     * gives, in one walk instead of a plain copy that is then copied again (a request body is the largest value a
     * gateway span holds). Null for a null or missing node.
     */
    public Object cleanTree(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isObject()) {
            Map<String, Object> out = new LinkedHashMap<>(node.size() * 2);
            node.fields().forEachRemaining(e -> {
                Object v = cleanTree(e.getValue());
                if (v != null) {
                    out.put(e.getKey(), v);
                }
            });
            return out;
        }
        if (node.isArray()) {
            List<Object> out = new ArrayList<>(node.size());
            node.forEach(e -> {
                Object v = cleanTree(e);
                out.add(v == null ? "" : v);
            });
            return out;
        }
        if (node.isNumber()) {
            return node.numberValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return cap(redact(node.asText()));
    }

    public String redact(String s) {
        if (!needles.isEmpty() && !containsNeedle(s)) {
            return s;
        }
        var m = combined.matcher(s);
        return m.find() ? m.replaceAll(REDACTED) : s;
    }

    private boolean containsNeedle(String s) {
        for (String needle : needles) {
            if (s.contains(needle)) {
                return true;
            }
        }
        return false;
    }

    private String cap(String s) {
        if (s.length() <= maxChars) {
            return s;
        }
        return s.substring(0, maxChars) + "…[truncated " + (s.length() - maxChars) + " chars]";
    }
}
