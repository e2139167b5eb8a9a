package dev.agentfn.cli;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A CI gate on a run metric: {@code relevance/mean>=0.8}, {@code agent/latency_ms/p90<5000}; a bare
 * {@code relevance=0.8} means {@code relevance/mean>=0.8}.
 */
record Threshold(String metric, String op, double value) {
    private static final Pattern FULL = Pattern.compile("\\s*([^<>=!\\s]+)\\s*(>=|<=|>|<|==)\\s*(-?[0-9.eE+-]+)\\s*");
    private static final Pattern SHORT = Pattern.compile("\\s*([^<>=!\\s/]+)\\s*=\\s*(-?[0-9.eE+-]+)\\s*");

    static Threshold parse(String text) {
        try {
            Matcher m = FULL.matcher(text);
            if (m.matches()) {
                return new Threshold(m.group(1), m.group(2), Double.parseDouble(m.group(3)));
            }
            m = SHORT.matcher(text);
            if (m.matches()) {
                return new Threshold(m.group(1) + "/mean", ">=", Double.parseDouble(m.group(2)));
            }
        } catch (NumberFormatException e) {
            // falls through to the usage message
        }
        throw new IllegalArgumentException("threshold '" + text + "': expected metric>=number (also >, <=, <, ==) "
                + "or scorer=number (meaning scorer/mean>=number)");
    }

    /** {@code null} when met; otherwise why not (a missing metric misses the gate). */
    String missed(Map<String, Double> metrics) {
        Double actual = metrics.get(metric);
        if (actual == null || actual.isNaN()) {
            return metric + " " + op + " " + value + ": no such metric in the run";
        }
        boolean ok = switch (op) {
            case ">=" -> actual >= value;
            case ">" -> actual > value;
            case "<=" -> actual <= value;
            case "<" -> actual < value;
            default -> actual == value;
        };
        return ok ? null : metric + " " + op + " " + value + ": got " + actual;
    }

    @Override
    public String toString() {
        return metric + op + value;
    }
}
