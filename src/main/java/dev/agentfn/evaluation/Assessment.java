package dev.agentfn.evaluation;

/**
 * One scorer's verdict on one row, shaped like MLflow's Feedback.
 *
 * @param value {@code Boolean}, {@code String} ("yes", "pass", a category) or {@code Double}; {@code null} on error
 * @param error why no value could be produced, or {@code null}
 * @param scorerTraceId the judge's own trace (MLflow metadata {@code mlflow.assessment.scorerTraceId}), or {@code null}
 */
public record Assessment(String name, Object value, String rationale, String error, String scorerTraceId) {

    public Assessment(String name, Object value, String rationale, String error) {
        this(name, value, rationale, error, null);
    }

    public Assessment withScorerTrace(String traceId) {
        return new Assessment(name, value, rationale, error, traceId);
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
