package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The built-in code scorers. Each is a pure function of the row and the agent's outcome. */
public final class CodeScorers {
    /** Scorer types this class builds, for error messages. */
    public static final Set<String> TYPES = Set.of("exact_match", "contains", "regex", "expected_tools_called",
            "no_error", "latency_under_ms", "cost_under_usd", "tokens_under", "json_schema");

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private CodeScorers() {
    }

    /** A code scorer: synchronous, so it runs on the thread that finished the row. */
    record CodeScorer(String name, BiFunction<DatasetRow, RowOutcome, Assessment> fn) implements Scorer {
        @Override
        public String sourceType() {
            return "CODE";
        }

        @Override
        public String sourceId() {
            return name;
        }

        @Override
        public CompletableFuture<Assessment> score(DatasetRow row, RowOutcome outcome) {
            try {
                return CompletableFuture.completedFuture(fn.apply(row, outcome));
            } catch (RuntimeException e) {
                return CompletableFuture.completedFuture(Assessment.failed(name, "scorer failed: " + e));
            }
        }
    }

    /** @param spec {@code {"type":…,"name":…,"pattern"|"threshold":…}}; {@code name} defaults to the type */
    public static Scorer create(String type, JsonNode spec, String where) {
        String name = spec.path("name").asText(type);
        return switch (type) {
            case "exact_match" -> new CodeScorer(name, (r, o) -> exactMatch(name, r, o));
            case "contains" -> new CodeScorer(name, (r, o) -> contains(name, r, o));
            case "regex" -> regex(name, spec, where);
            case "expected_tools_called" -> new CodeScorer(name, (r, o) -> toolsCalled(name, r, o));
            case "no_error" -> new CodeScorer(name, (r, o) -> Assessment.of(name, !o.failed(),
                    o.failed() ? "the invocation failed: " + o.error() : "the invocation succeeded"));
            case "latency_under_ms" -> under(name, spec, where, "latency", "ms", o -> (double) o.latencyMs());
            case "cost_under_usd" -> under(name, spec, where, "cost", "USD", RowOutcome::costUsd);
            case "tokens_under" -> under(name, spec, where, "tokens", "tokens", o -> (double) o.totalTokens());
            case "json_schema" -> jsonSchema(name, spec, where);
            default -> throw new EvaluationException(where + ": unknown scorer type '" + type + "'");
        };
    }

    private static Assessment exactMatch(String name, DatasetRow row, RowOutcome o) {
        return withExpected(name, row, o, expected -> {
            boolean same = o.output().strip().equals(expected.strip());
            return Assessment.of(name, same, same ? "the response equals expected_response"
                    : "the response differs from expected_response");
        });
    }

    private static Assessment contains(String name, DatasetRow row, RowOutcome o) {
        return withExpected(name, row, o, expected -> {
            boolean found = o.output().contains(expected.strip());
            return Assessment.of(name, found, found ? "the response contains expected_response"
                    : "the response does not contain expected_response");
        });
    }

    private static Assessment withExpected(String name, DatasetRow row, RowOutcome o,
            java.util.function.Function<String, Assessment> judge) {
        JsonNode expected = row.expectations().get("expected_response");
        if (expected == null || !expected.isTextual()) {
            return Assessment.failed(name, "the row has no expectations.expected_response string");
        }
        if (o.failed()) {
            return Assessment.failed(name, "no response to compare: " + o.error());
        }
        return judge.apply(expected.asText());
    }

    private static Scorer regex(String name, JsonNode spec, String where) {
        String source = spec.path("pattern").asText(null);
        if (source == null) {
            throw new EvaluationException(where + ": regex needs \"pattern\"");
        }
        Pattern p;
        try {
            p = Pattern.compile(source);
        } catch (PatternSyntaxException e) {
            throw new EvaluationException(where + ": invalid pattern: " + e.getDescription());
        }
        return new CodeScorer(name, (r, o) -> {
            if (o.failed()) {
                return Assessment.failed(name, "no response to match: " + o.error());
            }
            boolean found = p.matcher(o.output()).find();
            return Assessment.of(name, found, (found ? "the response matches /" : "the response does not match /")
                    + source + "/");
        });
    }

    /** The response (code fences around it tolerated) is JSON valid against {@code "schema"}. */
    private static Scorer jsonSchema(String name, JsonNode spec, String where) {
        JsonNode schema = spec.get("schema");
        if (schema == null) {
            throw new EvaluationException(where + ": json_schema needs \"schema\" (a JSON Schema object)");
        }
        JsonSchema validator = JsonSchema.of(schema, where);
        return new CodeScorer(name, (r, o) -> {
            if (o.failed()) {
                return Assessment.failed(name, "no response to validate: " + o.error());
            }
            JsonNode value;
            try {
                value = JSON.readTree(unfenced(o.output()));
            } catch (java.io.IOException e) {
                return Assessment.of(name, false, "the response is not JSON");
            }
            if (value == null || value.isMissingNode()) {
                return Assessment.of(name, false, "the response is empty");
            }
            List<String> errors = validator.validate(value);
            return Assessment.of(name, errors.isEmpty(), errors.isEmpty() ? "the response is JSON valid against the schema"
                    : "the response violates the schema: " + String.join("; ", errors));
        });
    }

    private static String unfenced(String text) {
        String t = text.strip();
        if (t.startsWith("```")) {
            int firstLine = t.indexOf('\n');
            int end = t.lastIndexOf("```");
            if (firstLine > 0 && end > firstLine) {
                return t.substring(firstLine + 1, end);
            }
        }
        return t;
    }

    private static Assessment toolsCalled(String name, DatasetRow row, RowOutcome o) {
        JsonNode expected = row.expectations().get("expected_tools");
        if (expected == null || !expected.isArray()) {
            return Assessment.failed(name, "the row has no expectations.expected_tools list");
        }
        List<String> missing = new ArrayList<>();
        for (JsonNode t : expected) {
            String tool = t.isObject() ? t.path("name").asText() : t.asText();
            if (!o.toolsCalled().contains(tool)) {
                missing.add(tool);
            }
        }
        return Assessment.of(name, missing.isEmpty(), missing.isEmpty()
                ? "every expected tool was called; called: " + o.toolsCalled()
                : "not called: " + missing + "; called: " + o.toolsCalled());
    }

    private static Scorer under(String name, JsonNode spec, String where, String what, String unit,
            java.util.function.ToDoubleFunction<RowOutcome> measure) {
        JsonNode t = spec.get("threshold");
        if (t == null || !t.isNumber() || t.asDouble() <= 0) {
            throw new EvaluationException(where + ": " + name + " needs a positive number \"threshold\"");
        }
        double limit = t.asDouble();
        return new CodeScorer(name, (r, o) -> {
            double v = measure.applyAsDouble(o);
            boolean ok = v < limit;
            return Assessment.of(name, ok, what + " " + v + " " + unit + (ok ? " is under " : " is not under ")
                    + limit + " " + unit);
        });
    }
}
