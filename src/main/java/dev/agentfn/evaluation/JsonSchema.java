package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A JSON Schema validator for the keywords answers are usually checked with (a subset of draft
 * 2020-12; no {@code $ref}, formats or dialects). A schema using any other keyword is refused when the
 * scorer is created, so a check is never silently skipped.
 */
final class JsonSchema {
    static final Set<String> KEYWORDS = Set.of("type", "properties", "required", "additionalProperties", "items",
            "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
            "pattern", "minItems", "maxItems", "uniqueItems", "anyOf", "oneOf", "allOf", "not",
            "title", "description", "$schema", "$id", "default", "examples");
    private static final int MAX_ERRORS = 5;

    private final JsonNode schema;

    private JsonSchema(JsonNode schema) {
        this.schema = schema;
    }

    /** Throws {@link EvaluationException} naming the place of an unsupported keyword or a bad pattern. */
    static JsonSchema of(JsonNode schema, String where) {
        check(schema, where + ".schema");
        return new JsonSchema(schema);
    }

    private static void check(JsonNode s, String at) {
        if (s.isBoolean()) {
            return;
        }
        if (!s.isObject()) {
            throw new EvaluationException(at + ": a schema must be an object or a boolean");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = s.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            if (!KEYWORDS.contains(k)) {
                throw new EvaluationException(at + ": unsupported JSON Schema keyword \"" + k + "\"; supported: "
                        + new TreeSet<>(KEYWORDS));
            }
            switch (k) {
                case "properties" -> e.getValue().fields().forEachRemaining(p -> check(p.getValue(), at + ".properties." + p.getKey()));
                case "items", "not" -> check(e.getValue(), at + "." + k);
                case "additionalProperties" -> check(e.getValue(), at + "." + k);
                case "anyOf", "oneOf", "allOf" -> {
                    int i = 0;
                    for (JsonNode sub : e.getValue()) {
                        check(sub, at + "." + k + "[" + i++ + "]");
                    }
                }
                case "pattern" -> {
                    try {
                        Pattern.compile(e.getValue().asText());
                    } catch (PatternSyntaxException x) {
                        throw new EvaluationException(at + ".pattern: " + x.getDescription());
                    }
                }
                default -> {
                }
            }
        }
    }

    /** The violations, as {@code /path: what}; empty when valid. At most a few. */
    List<String> validate(JsonNode value) {
        List<String> errors = new ArrayList<>();
        validate(schema, value, "", errors);
        return errors.size() > MAX_ERRORS ? errors.subList(0, MAX_ERRORS) : errors;
    }

    private static void validate(JsonNode s, JsonNode v, String path, List<String> errors) {
        if (s.isBoolean()) {
            if (!s.asBoolean()) {
                errors.add(at(path) + "no value is allowed here");
            }
            return;
        }
        if (s.has("type") && !typeMatches(s.get("type"), v)) {
            errors.add(at(path) + "expected " + s.get("type") + ", got " + typeOf(v));
            return;
        }
        if (s.has("enum") && !contains(s.get("enum"), v)) {
            errors.add(at(path) + "not one of " + s.get("enum"));
        }
        if (s.has("const") && !s.get("const").equals(v)) {
            errors.add(at(path) + "must be " + s.get("const"));
        }
        if (v.isNumber()) {
            number(s, v.asDouble(), path, errors);
        }
        if (v.isTextual()) {
            text(s, v.asText(), path, errors);
        }
        if (v.isObject()) {
            object(s, v, path, errors);
        }
        if (v.isArray()) {
            array(s, v, path, errors);
        }
        combinators(s, v, path, errors);
    }

    private static void number(JsonNode s, double x, String path, List<String> errors) {
        if (s.has("minimum") && x < s.get("minimum").asDouble()) {
            errors.add(at(path) + x + " < minimum " + s.get("minimum"));
        }
        if (s.has("maximum") && x > s.get("maximum").asDouble()) {
            errors.add(at(path) + x + " > maximum " + s.get("maximum"));
        }
        if (s.has("exclusiveMinimum") && x <= s.get("exclusiveMinimum").asDouble()) {
            errors.add(at(path) + x + " <= exclusiveMinimum " + s.get("exclusiveMinimum"));
        }
        if (s.has("exclusiveMaximum") && x >= s.get("exclusiveMaximum").asDouble()) {
            errors.add(at(path) + x + " >= exclusiveMaximum " + s.get("exclusiveMaximum"));
        }
    }

    private static void text(JsonNode s, String t, String path, List<String> errors) {
        int length = t.codePointCount(0, t.length());
        if (s.has("minLength") && length < s.get("minLength").asInt()) {
            errors.add(at(path) + "shorter than minLength " + s.get("minLength"));
        }
        if (s.has("maxLength") && length > s.get("maxLength").asInt()) {
            errors.add(at(path) + "longer than maxLength " + s.get("maxLength"));
        }
        if (s.has("pattern") && !Pattern.compile(s.get("pattern").asText()).matcher(t).find()) {
            errors.add(at(path) + "does not match pattern " + s.get("pattern"));
        }
    }

    private static void object(JsonNode s, JsonNode v, String path, List<String> errors) {
        for (JsonNode r : s.path("required")) {
            if (!v.has(r.asText())) {
                errors.add(at(path) + "missing required property \"" + r.asText() + "\"");
            }
        }
        JsonNode props = s.path("properties");
        v.fields().forEachRemaining(e -> {
            String p = path + "/" + e.getKey();
            if (props.has(e.getKey())) {
                validate(props.get(e.getKey()), e.getValue(), p, errors);
            } else if (s.has("additionalProperties")) {
                JsonNode extra = s.get("additionalProperties");
                if (extra.isBoolean() && !extra.asBoolean()) {
                    errors.add(at(path) + "property \"" + e.getKey() + "\" is not allowed");
                } else {
                    validate(extra, e.getValue(), p, errors);
                }
            }
        });
    }

    private static void array(JsonNode s, JsonNode v, String path, List<String> errors) {
        if (s.has("minItems") && v.size() < s.get("minItems").asInt()) {
            errors.add(at(path) + "fewer than minItems " + s.get("minItems"));
        }
        if (s.has("maxItems") && v.size() > s.get("maxItems").asInt()) {
            errors.add(at(path) + "more than maxItems " + s.get("maxItems"));
        }
        if (s.path("uniqueItems").asBoolean(false) && new java.util.HashSet<>(toList(v)).size() != v.size()) {
            errors.add(at(path) + "items are not unique");
        }
        if (s.has("items")) {
            for (int i = 0; i < v.size(); i++) {
                validate(s.get("items"), v.get(i), path + "/" + i, errors);
            }
        }
    }

    private static void combinators(JsonNode s, JsonNode v, String path, List<String> errors) {
        if (s.has("allOf")) {
            s.get("allOf").forEach(sub -> validate(sub, v, path, errors));
        }
        if (s.has("anyOf") && count(s.get("anyOf"), v) == 0) {
            errors.add(at(path) + "matches none of anyOf");
        }
        if (s.has("oneOf") && count(s.get("oneOf"), v) != 1) {
            errors.add(at(path) + "does not match exactly one of oneOf");
        }
        if (s.has("not") && count(List.of(s.get("not")), v) == 1) {
            errors.add(at(path) + "matches the \"not\" schema");
        }
    }

    private static int count(Iterable<JsonNode> schemas, JsonNode v) {
        int n = 0;
        for (JsonNode sub : schemas) {
            List<String> e = new ArrayList<>();
            validate(sub, v, "", e);
            n += e.isEmpty() ? 1 : 0;
        }
        return n;
    }

    private static boolean typeMatches(JsonNode type, JsonNode v) {
        if (type.isArray()) {
            for (JsonNode t : type) {
                if (typeMatches(t, v)) {
                    return true;
                }
            }
            return false;
        }
        return switch (type.asText()) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()));
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            default -> false;
        };
    }

    private static String typeOf(JsonNode v) {
        return v.isObject() ? "object" : v.isArray() ? "array" : v.isTextual() ? "string" : v.isNumber() ? "number"
                : v.isBoolean() ? "boolean" : "null";
    }

    private static boolean contains(JsonNode list, JsonNode v) {
        for (JsonNode x : list) {
            if (x.equals(v)) {
                return true;
            }
        }
        return false;
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    private static String at(String path) {
        return (path.isEmpty() ? "/" : path) + ": ";
    }
}
