package dev.agentfn.evaluation;

import dev.agentfn.config.AgentfnConfig;
import java.util.Map;
import java.util.Optional;

/**
 * The cost of a judge call, for the assessment's {@code mlflow.assessment.judgeCost}. Prices come from
 * {@code agentfn.prices."<model>"} first; OpenAI judge models agentfn does not price for its agent fall back to
 * the list prices of MLflow 3.17.2's bundled model catalog ({@code mlflow/utils/model_catalog/openai.json}),
 * which is where MLflow itself looks. A model priced nowhere has no cost (MLflow then omits the key too).
 */
public interface JudgePricing {
    JudgePricing NONE = (model, in, out) -> Optional.empty();

    /** USD for {@code in} prompt and {@code out} completion tokens of {@code model} (without provider prefix). */
    Optional<Double> cost(String model, long in, long out);

    /** USD per million tokens {input, output}, from MLflow 3.17.2's catalog. */
    Map<String, double[]> MLFLOW_CATALOG = Map.of(
            "gpt-4o", new double[] {2.5, 10.0},
            "gpt-4o-mini", new double[] {0.15, 0.6},
            "gpt-4.1", new double[] {2.0, 8.0},
            "gpt-4.1-mini", new double[] {0.4, 1.6},
            "gpt-4.1-nano", new double[] {0.1, 0.4},
            "gpt-5", new double[] {1.25, 10.0},
            "gpt-5-mini", new double[] {0.25, 2.0},
            "gpt-5-nano", new double[] {0.05, 0.4},
            "o3", new double[] {2.0, 8.0},
            "o4-mini", new double[] {1.1, 4.4});

    static JudgePricing of(Map<String, AgentfnConfig.Price> configured) {
        return (model, in, out) -> {
            AgentfnConfig.Price p = configured.get(model);
            if (p != null) {
                return Optional.of(in * (p.input().doubleValue() / 1_000_000) + out * (p.output().doubleValue() / 1_000_000));
            }
            double[] catalog = MLFLOW_CATALOG.get(model);
            // MLflow's arithmetic (per-token price times tokens), so both sides agree to the last digit.
            return catalog == null ? Optional.empty()
                    : Optional.of(in * (catalog[0] / 1_000_000) + out * (catalog[1] / 1_000_000));
        };
    }
}
