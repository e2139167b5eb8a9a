package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Judge instructions with {@code {{ inputs }}}, {@code {{ outputs }}}, {@code {{ expectations }}} and
 * {@code {{ trace }}} (a compact summary of what the agent did), as make_judge.
 */
public final class JudgeTemplate {
    static final Set<String> VARIABLES = Set.of("inputs", "outputs", "expectations", "trace");
    private static final Pattern VARIABLE = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*}}");

    private final String instructions;

    private JudgeTemplate(String instructions) {
        this.instructions = instructions;
    }

    /** Checks the variables now, so a typo fails the request instead of every judge call. */
    public static JudgeTemplate parse(String instructions, String where) {
        if (instructions == null || instructions.isBlank()) {
            throw new EvaluationException(where + ": \"instructions\" is required");
        }
        Set<String> used = new LinkedHashSet<>();
        Matcher m = VARIABLE.matcher(instructions);
        while (m.find()) {
            if (!VARIABLES.contains(m.group(1))) {
                throw new EvaluationException(where + ": unknown template variable {{ " + m.group(1)
                        + " }}; use {{ inputs }}, {{ outputs }}, {{ expectations }} or {{ trace }}");
            }
            used.add(m.group(1));
        }
        if (used.isEmpty()) {
            throw new EvaluationException(where + ": instructions must use at least one of {{ inputs }}, "
                    + "{{ outputs }}, {{ expectations }}, {{ trace }}");
        }
        return new JudgeTemplate(instructions);
    }

    public String render(DatasetRow row, RowOutcome outcome) {
        Matcher m = VARIABLE.matcher(instructions);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "inputs" -> pretty(row.inputs());
                case "outputs" -> outcome.failed() ? "(the agent failed: " + outcome.error() + ")" : outcome.output();
                case "trace" -> summary(outcome);
                default -> pretty(row.expectations());
            };
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** What a judge can check about the run beyond the answer: outcome, tools in order, time, tokens, cost. */
    static String summary(RowOutcome o) {
        StringBuilder sb = new StringBuilder();
        sb.append("trace ").append(o.traceId() == null ? "(none)" : o.traceId()).append('\n');
        sb.append("status: ").append(o.failed() ? "ERROR: " + o.error() : "OK").append('\n');
        sb.append("tool calls (in order): ").append(o.toolsCalled().isEmpty() ? "none" : String.join(", ",
                o.toolsCalled())).append('\n');
        sb.append("latency: ").append(o.latencyMs()).append(" ms; tokens: ").append(o.totalTokens())
                .append("; cost: ").append(String.format(java.util.Locale.ROOT, "%.6f", o.costUsd())).append(" USD\n");
        sb.append("final answer: ").append(o.failed() ? "(none)" : o.output());
        return sb.toString();
    }

    private static String pretty(JsonNode node) {
        return node.toPrettyString();
    }
}
