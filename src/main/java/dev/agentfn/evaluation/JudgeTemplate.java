package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Judge instructions with {@code {{ inputs }}}, {@code {{ outputs }}}, {@code {{ expectations }}} and
 * {@code {{ trace }}}, turned into the two messages MLflow's make_judge ({@code InstructionsJudge}) sends: the
 * instructions, unrendered, as the task in the system message with the answer's fields and types; the values in
 * the user message, one {@code name: <JSON>} block per variable in the order the instructions name them. So the
 * template's own words never blur into the row's data, and the judge sees what an MLflow judge sees.
 */
public final class JudgeTemplate {
    static final Set<String> VARIABLES = Set.of("inputs", "outputs", "expectations", "trace");
    private static final Pattern VARIABLE = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*}}");
    /** make_judge's JUDGE_BASE_PROMPT and field-based system prompt (instructions_judge/constants.py). */
    private static final String BASE = """
            You are an expert judge tasked with evaluating the performance of an AI
            agent on a particular query. You will be given instructions that describe the criteria and
            methodology for evaluating the agent's performance on the query.""";
    /** add_output_format_instructions (judges/utils/prompt_utils.py). */
    private static final String FORMAT = "You *must* format your evaluation rating as a JSON object with the following "
            + "fields (no markdown). Pay close attention to the field type of the evaluation rating (string, boolean, "
            + "numeric, etc.), and ensure that it conforms to the instructions.";
    static final String RESULT_DESCRIPTION = "The evaluation rating/result";
    static final String RATIONALE_DESCRIPTION = "Detailed explanation for the evaluation";

    private final String instructions;
    private final List<String> variables;

    private JudgeTemplate(String instructions, List<String> variables) {
        this.instructions = instructions;
        this.variables = List.copyOf(variables);
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
        return new JudgeTemplate(instructions, new ArrayList<>(used));
    }

    public String instructions() {
        return instructions;
    }

    /** The system message: the task (the instructions as written) and the answer's fields with their types. */
    public String system(JudgeResultType type) {
        return BASE + "\n\nYour task: " + instructions + ".\n\n" + FORMAT + "\n\n- result (" + type.pythonName()
                + "): " + RESULT_DESCRIPTION + "\n- rationale (str): " + RATIONALE_DESCRIPTION;
    }

    /**
     * The user message: {@code inputs} is the row's inputs as the dataset wrote them (not the prompt derived from
     * them), {@code outputs} the answer, both as JSON the way Python's {@code json.dumps(v, indent=2)} writes it.
     * {@code trace} is agentfn's summary of what the agent did (MLflow gives its judge tools instead).
     */
    public String user(DatasetRow row, RowOutcome outcome) {
        List<String> parts = new ArrayList<>();
        for (String v : variables) {
            String value = switch (v) {
                case "inputs" -> pythonJson(row.originalInputs(), "");
                case "outputs" -> pythonJson(JsonNodeFactory.instance.textNode(outcome.failed()
                        ? "(the agent failed: " + outcome.error() + ")" : outcome.output() == null ? "" : outcome.output()), "");
                case "trace" -> summary(outcome);
                default -> pythonJson(row.expectations(), "");
            };
            parts.add(v + ": " + value);
        }
        return String.join("\n", parts);
    }

    /** What a judge can check about the run beyond the answer: outcome, tools in order, time, tokens, cost. */
    static String summary(RowOutcome o) {
        StringBuilder sb = new StringBuilder();
        sb.append("trace ").append(o.traceId() == null ? "(none)" : o.traceId()).append('\n');
        sb.append("status: ").append(o.failed() ? "ERROR: " + o.error() : "OK").append('\n');
        sb.append("tool calls (in order): ").append(o.toolsCalled().isEmpty() ? "none" : String.join(", ",
                o.toolsCalled())).append('\n');
        sb.append("latency: ").append(o.latencyMs()).append(" ms; tokens: ").append(o.totalTokens())
                .append("; cost: ").append(String.format(Locale.ROOT, "%.6f", o.costUsd())).append(" USD\n");
        sb.append("final answer: ").append(o.failed() ? "(none)" : o.output());
        return sb.toString();
    }

    /** {@code json.dumps(value, indent=2, ensure_ascii=False)}: two-space indent, {@code ": "} and {@code ","}. */
    static String pythonJson(JsonNode node, String indent) {
        if (node.isObject() && !node.isEmpty()) {
            String inner = indent + "  ";
            List<String> items = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                items.add(inner + JsonNodeFactory.instance.textNode(f.getKey()) + ": " + pythonJson(f.getValue(), inner));
            }
            return "{\n" + String.join(",\n", items) + "\n" + indent + "}";
        }
        if (node.isArray() && !node.isEmpty()) {
            String inner = indent + "  ";
            List<String> items = new ArrayList<>();
            node.forEach(e -> items.add(inner + pythonJson(e, inner)));
            return "[\n" + String.join(",\n", items) + "\n" + indent + "]";
        }
        return node.toString();
    }
}
