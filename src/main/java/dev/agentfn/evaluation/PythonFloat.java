package dev.agentfn.evaluation;

import java.math.BigDecimal;

/**
 * A double as Python's {@code str(float)} writes it: MLflow stores assessment metadata as {@code str(value)}, so
 * a judge cost reads the same whether the Python client or agentfn wrote it ({@code 0.000175}, {@code 1.5e-05}).
 */
final class PythonFloat {
    private PythonFloat() {
    }

    static String repr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exponent = bd.precision() - bd.scale() - 1;
        if (exponent >= -4 && exponent < 16) {
            String plain = bd.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = bd.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + String.format("%02d", Math.abs(exponent));
    }
}
