package dev.agentfn.invocation.agent;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A registered prompt named the way {@code mlflow.genai.load_prompt} takes it: {@code prompts:/name/version} or
 * {@code prompts:/name@alias}. Exactly one of {@code version} and {@code alias} is set.
 */
public record PromptRef(String name, Integer version, String alias) {
    public static final String SCHEME = "prompts:/";
    /** MLflow's {@code PROMPT_NAME_RULE}; an alias follows the registered-model alias rule (letters, digits, _ -). */
    private static final Pattern FORM = Pattern.compile(
            "prompts:/([a-zA-Z0-9_.-]+)(?:/([0-9]{1,9})|@([a-zA-Z0-9_-]{1,255}))");

    /** Whether the text means to name a registered prompt (then it must parse, or it is an error, never text). */
    public static boolean looksLikeReference(String text) {
        return text != null && text.strip().startsWith(SCHEME);
    }

    /** The reference, or empty when the text is not of the form (a malformed reference included). */
    public static Optional<PromptRef> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(m.group(2) != null ? new PromptRef(m.group(1), Integer.valueOf(m.group(2)), null)
                : new PromptRef(m.group(1), null, m.group(3)));
    }

    /** Why a text that starts with {@code prompts:/} is not a reference. */
    static String form() {
        return "a registered prompt is named prompts:/<name>/<version> or prompts:/<name>@<alias>";
    }

    public String uri() {
        return SCHEME + name + (version != null ? "/" + version : "@" + alias);
    }
}
