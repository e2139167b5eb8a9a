package dev.agentfn.conversation;

import dev.agentfn.LogText;
import dev.agentfn.config.AgentfnConfig;
import jakarta.inject.Singleton;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Prices token usage from the configured price table. A singleton, not a client proxy: the engines call it
 * from reader threads of CLI processes, and a proxy would create the bean lazily on whichever thread came first
 * (a Claude Code test once saw ArC fail to do that there).
 */
@Singleton
public class Pricing {
    private static final Logger LOG = Logger.getLogger(Pricing.class);
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    private final Map<String, AgentfnConfig.Price> prices;
    private final Set<String> warnedModels = ConcurrentHashMap.newKeySet();

    public Pricing(AgentfnConfig config) {
        this.prices = config.prices();
    }

    /** Cost split the way MLflow shows it: input side (cache included) and output side, in USD. */
    public record Cost(double inputUsd, double outputUsd) {
        public static final Cost ZERO = new Cost(0, 0);

        public double totalUsd() {
            return inputUsd + outputUsd;
        }

        public Cost plus(Cost o) {
            return new Cost(inputUsd + o.inputUsd, outputUsd + o.outputUsd);
        }
    }

    public Cost cost(String model, Usage usage) {
        AgentfnConfig.Price price = model == null ? null : prices.get(model);
        if (price == null) {
            if (model != null && warnedModels.add(model)) {
                LOG.warnf("No price configured for model %s; its cost is reported as 0 (set agentfn.prices.\"%s\".*)",
                        LogText.escape(model), LogText.escape(model));
            }
            return Cost.ZERO;
        }
        BigDecimal in = perToken(price.input(), usage.inputTokens())
                .add(perToken(price.cacheWrite().orElse(price.input()), usage.cacheCreationInputTokens()))
                .add(perToken(price.cacheRead().orElse(price.input()), usage.cacheReadInputTokens()));
        BigDecimal out = perToken(price.output(), usage.outputTokens());
        return new Cost(in.doubleValue(), out.doubleValue());
    }

    private static BigDecimal perToken(BigDecimal perMillion, long tokens) {
        return perMillion.multiply(BigDecimal.valueOf(tokens)).divide(MILLION, MathContext.DECIMAL64);
    }
}
