package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Judge instructions with {@code {{ inputs }}}, {@code {{ outputs }}} and {@code {{ expectations }}}, as make_judge. */
public final class JudgeTemplate {
    static final Set<String> VARIABLES = Set.of("inputs", "outputs", "expectations");
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
                        + " }}; use {{ inputs }}, {{ outputs }} or {{ expectations }}");
            }
            used.add(m.group(1));
        }
        if (used.isEmpty()) {
            throw new EvaluationException(where + ": instructions must use at least one of {{ inputs }}, "
                    + "{{ outputs }}, {{ expectations }}");
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
                default -> pretty(row.expectations());
            };
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static String pretty(JsonNode node) {
        return node.toPrettyString();
    }
}
