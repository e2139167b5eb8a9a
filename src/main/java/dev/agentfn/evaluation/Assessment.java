package dev.agentfn.evaluation;

/**
 * One scorer's verdict on one row, shaped like MLflow's Feedback.
 *
 * @param value {@code Boolean}, {@code String} ("yes", "pass", a category) or {@code Double}; {@code null} on error
 * @param error why no value could be produced, or {@code null}
 * @param scorerTraceId the judge's own trace (MLflow metadata {@code mlflow.assessment.scorerTraceId}), or {@code null}
 * @param usage what the judge's model calls took, or {@code null} (code scorers; a judge whose calls all failed)
 */
public record Assessment(String name, Object value, String rationale, String error, String scorerTraceId,
        JudgeUsage usage) {

    /**
     * Tokens of all of a judgement's model calls (a malformed answer asked again counts twice), and their cost.
     *
     * @param costUsd {@code null} when the model has no known price
     */
    public record JudgeUsage(long inputTokens, long outputTokens, Double costUsd) {
        public static final JudgeUsage NONE = new JudgeUsage(0, 0, 0.0);

        JudgeUsage plus(JudgeUsage o) {
            Double cost = costUsd == null || o.costUsd == null ? null : costUsd + o.costUsd;
            return new JudgeUsage(inputTokens + o.inputTokens, outputTokens + o.outputTokens, cost);
        }
    }

    public Assessment(String name, Object value, String rationale, String error) {
        this(name, value, rationale, error, null, null);
    }

    public Assessment withScorerTrace(String traceId) {
        return new Assessment(name, value, rationale, error, traceId, usage);
    }

    public Assessment withUsage(JudgeUsage u) {
        return new Assessment(name, value, rationale, error, scorerTraceId, u);
    }

    public static Assessment of(String name, Object value, String rationale) {
        return new Assessment(name, value, rationale, null);
    }

    public static Assessment failed(String name, String error) {
        return new Assessment(name, null, null, error);
    }

    /** The value as a metric: yes/true/pass 1.0, no/false/fail 0.0, numbers as is; other values have none. */
    public Double numeric() {
        if (value instanceof Boolean b) {
            return b ? 1.0 : 0.0;
        }
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        if (value instanceof String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "yes", "pass", "true" -> 1.0;
                case "no", "fail", "false" -> 0.0;
                default -> null;
            };
        }
        return null;
    }
}
