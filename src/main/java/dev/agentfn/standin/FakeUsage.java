package dev.agentfn.standin;

/**
 * Token usage reported for one fake model turn. {@code input_tokens} excludes cached tokens,
 * as on the real API.
 */
public record FakeUsage(int inputTokens, int outputTokens, int cacheReadInputTokens,
                        int cacheCreationInputTokens) {

    public static FakeUsage of(int inputTokens, int outputTokens) {
        return new FakeUsage(inputTokens, outputTokens, 0, 0);
    }

    /**
     * The default, deterministic estimate so tests can assert numbers:
     * input = request body chars / 4, output = generated chars / 4, each at least 1.
     */
    public static FakeUsage estimate(int requestChars, int outputChars) {
        return of(Math.max(1, requestChars / 4), Math.max(1, outputChars / 4));
    }
}
