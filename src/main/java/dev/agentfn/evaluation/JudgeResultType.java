package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What a judge may answer, as make_judge's {@code feedback_value_type}: free text ({@code str}, the default, so the
 * instructions decide the answer's form), a boolean, an integer, a float, or one of a list of categories
 * ({@code Literal[...]}; {@code yes/no} and {@code pass/fail} are two such lists). Parses the judge's
 * {@code result} into the assessment value and describes the type to the model as MLflow does.
 */
public sealed interface JudgeResultType {

    /** make_judge's type name as its prompt shows it: {@code str}, {@code bool}, {@code Literal['a', 'b']}. */
    String pythonName();

    /** The JSON schema of {@code result} in the structured-output request, as pydantic writes it. */
    ObjectNode schema();

    /** The value, or {@code null} when the answer does not fit the type. */
    Object value(JsonNode result);

    /** Whether MLflow's evaluate aggregates this judge into {@code <name>/mean} (make_judge: bool, int, float). */
    default boolean mlflowMean() {
        return false;
    }

    /** Free text, stored as the model wrote it (MLflow's default {@code str}). */
    record Text() implements JudgeResultType {
        @Override
        public String pythonName() {
            return "str";
        }

        @Override
        public ObjectNode schema() {
            return typed("string");
        }

        @Override
        public Object value(JsonNode result) {
            // MLflow stores whatever scalar came back; a structured-output model always sends a string.
            if (result == null || result.isNull() || result.isContainerNode()) {
                return null;
            }
            return result.isTextual() ? result.asText() : result.isBoolean() ? result.booleanValue()
                    : result.isIntegralNumber() ? (Object) result.longValue() : result.doubleValue();
        }
    }

    record Bool() implements JudgeResultType {
        @Override
        public String pythonName() {
            return "bool";
        }

        @Override
        public ObjectNode schema() {
            return typed("boolean");
        }

        @Override
        public Object value(JsonNode result) {
            return result != null && result.isBoolean() ? result.booleanValue() : null;
        }

        @Override
        public boolean mlflowMean() {
            return true;
        }
    }

    record Int() implements JudgeResultType {
        @Override
        public String pythonName() {
            return "int";
        }

        @Override
        public ObjectNode schema() {
            return typed("integer");
        }

        @Override
        public Object value(JsonNode result) {
            boolean whole = result != null && result.isNumber() && result.canConvertToLong()
                    && result.doubleValue() == Math.rint(result.doubleValue());
            return whole ? (Object) result.longValue() : null;
        }

        @Override
        public boolean mlflowMean() {
            return true;
        }
    }

    record Float() implements JudgeResultType {
        @Override
        public String pythonName() {
            return "float";
        }

        @Override
        public ObjectNode schema() {
            return typed("number");
        }

        @Override
        public Object value(JsonNode result) {
            return result != null && result.isNumber() ? result.doubleValue() : null;
        }

        @Override
        public boolean mlflowMean() {
            return true;
        }
    }

    /** One of the listed strings; the answer is matched ignoring case and surrounding space. */
    record Categories(List<String> values) implements JudgeResultType {
        public Categories {
            values = List.copyOf(values);
        }

        @Override
        public String pythonName() {
            return values.stream().map(v -> "'" + v + "'").collect(Collectors.joining(", ", "Literal[", "]"));
        }

        @Override
        public ObjectNode schema() {
            ObjectNode s = JsonNodeFactory.instance.objectNode();
            values.forEach(s.putArray("enum")::add);
            return s.put("type", "string");
        }

        @Override
        public Object value(JsonNode result) {
            String s = result != null && result.isTextual() ? result.asText().strip() : null;
            return s == null ? null : values.stream().filter(v -> v.equalsIgnoreCase(s)).findFirst().orElse(null);
        }
    }

    /** From {@code result_type} (and {@code categories}); absent: {@code str}, as make_judge. */
    static JudgeResultType parse(JsonNode spec, String where) {
        String kind = spec.path("result_type").asText("str").toLowerCase(Locale.ROOT).replace('_', '/');
        return switch (kind) {
            case "str", "text" -> new Text();
            case "bool", "boolean" -> new Bool();
            case "int", "integer" -> new Int();
            case "float", "number" -> new Float();
            case "yes/no" -> new Categories(List.of("yes", "no"));
            case "pass/fail" -> new Categories(List.of("pass", "fail"));
            case "categories" -> categories(spec, where);
            default -> throw new EvaluationException(where + ": result_type must be str, bool, int, float, yes/no, "
                    + "pass/fail or categories, got '" + spec.path("result_type").asText() + "'");
        };
    }

    private static JudgeResultType categories(JsonNode spec, String where) {
        List<String> values = new ArrayList<>();
        spec.path("categories").forEach(c -> values.add(c.asText()));
        if (values.size() < 2) {
            throw new EvaluationException(where + ": result_type categories needs a \"categories\" list of at least 2");
        }
        return new Categories(values);
    }

    private static ObjectNode typed(String type) {
        return JsonNodeFactory.instance.objectNode().put("type", type);
    }
}
