package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a judge may answer: yes/no, pass/fail, a boolean, a number or one of a list of categories.
 * Parses the {@code result} field of the judge's JSON into the assessment value.
 */
public record JudgeResultType(String kind, List<String> categories) {
    public JudgeResultType {
        categories = List.copyOf(categories);
    }

    public static JudgeResultType parse(JsonNode spec, String where) {
        String kind = spec.path("result_type").asText("yes/no").toLowerCase(Locale.ROOT).replace('_', '/');
        List<String> categories = new ArrayList<>();
        spec.path("categories").forEach(c -> categories.add(c.asText()));
        switch (kind) {
            case "yes/no", "pass/fail", "bool", "number" -> {
                return new JudgeResultType(kind, List.of());
            }
            case "categories" -> {
                if (categories.size() < 2) {
                    throw new EvaluationException(where + ": result_type categories needs a \"categories\" list of at least 2");
                }
                return new JudgeResultType(kind, categories);
            }
            default -> throw new EvaluationException(where + ": result_type must be yes/no, pass/fail, bool, number "
                    + "or categories, got '" + spec.path("result_type").asText() + "'");
        }
    }

    /** How the judge is told to answer. */
    public String instruction() {
        return switch (kind) {
            case "yes/no" -> "\"yes\" or \"no\"";
            case "pass/fail" -> "\"pass\" or \"fail\"";
            case "bool" -> "true or false (a JSON boolean)";
            case "number" -> "a number";
            default -> "one of " + categories.stream().map(c -> "\"" + c + "\"").toList();
        };
    }

    /** The value, or {@code null} when the answer does not fit the type. */
    public Object value(JsonNode result) {
        if (result == null) {
            return null;
        }
        return switch (kind) {
            case "yes/no" -> oneOf(result, List.of("yes", "no"));
            case "pass/fail" -> oneOf(result, List.of("pass", "fail"));
            case "bool" -> result.isBoolean() ? result.booleanValue() : null;
            case "number" -> result.isNumber() ? result.doubleValue() : null;
            default -> result.isTextual() && categories.contains(result.asText()) ? result.asText() : null;
        };
    }

    private static String oneOf(JsonNode result, List<String> allowed) {
        String s = result.isTextual() ? result.asText().strip().toLowerCase(Locale.ROOT) : "";
        return allowed.contains(s) ? s : null;
    }
}
