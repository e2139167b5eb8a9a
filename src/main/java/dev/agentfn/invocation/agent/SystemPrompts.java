package dev.agentfn.invocation.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.mlflow.PromptRegistry.PromptVersion;
import dev.agentfn.mlflow.PromptRegistry.PromptVersionRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The system prompt an invocation runs with: the request's {@code system}, else the deployment's
 * ({@code agentfn.agent.system-prompt}); either may name a registered prompt, which is loaded ({@link Prompts}) and
 * filled with the request's {@code prompt_variables}. A chat prompt's system messages become the system prompt and
 * its other messages go before the request's.
 */
public final class SystemPrompts {
    /** MLflow's {@code PROMPT_TEMPLATE_VARIABLE_PATTERN}. */
    private static final Pattern VARIABLE = Pattern.compile(
            "\\{\\{\\s*([a-zA-Z_][a-zA-Z0-9_]*(?:\\.[a-zA-Z_][a-zA-Z0-9_]*)*)\\s*\\}\\}");

    private final JsonNode deploymentDefault;
    private final Prompts prompts;
    private final ObjectMapper json;

    /** @param deploymentDefault text, a {@code prompts:/} reference, or null for none */
    public SystemPrompts(String deploymentDefault, Prompts prompts, ObjectMapper json) {
        this.deploymentDefault = deploymentDefault == null ? null : JsonNodeFactory.instance.textNode(deploymentDefault);
        this.prompts = prompts;
        this.json = json;
    }

    /** No deployment system prompt and no registry: a request's references are refused. */
    public static SystemPrompts none(ObjectMapper json) {
        return new SystemPrompts(null, new Prompts(null, java.time.Duration.ZERO, System::nanoTime), json);
    }

    /**
     * The conversation as it will run, and the prompt versions it used.
     *
     * @param staleReason null, or why a cached version served instead of what MLflow holds now
     */
    public record Prepared(ConversationRequest conversation, List<PromptVersionRef> used, String staleReason) {
        public Prepared {
            used = List.copyOf(used);
        }
    }

    /** The deployment's own reference, if its system prompt names one (checked at start). */
    public PromptRef deploymentReference() {
        return deploymentDefault == null ? null : PromptRef.parse(deploymentDefault.asText()).orElse(null);
    }

    public Prompts prompts() {
        return prompts;
    }

    /** Completes exceptionally with a {@link PromptException} when a named prompt cannot be used. */
    public CompletableFuture<Prepared> prepare(ConversationRequest c, Map<String, String> variables) {
        JsonNode system = c.system() == null || c.system().isNull() ? deploymentDefault : c.system();
        if (system == null || !system.isTextual() || !PromptRef.looksLikeReference(system.asText())) {
            return CompletableFuture.completedFuture(new Prepared(with(c, system, c.messages()), List.of(), null));
        }
        PromptRef ref = PromptRef.parse(system.asText()).orElse(null);
        if (ref == null) {
            return CompletableFuture.failedFuture(new PromptException(PromptException.Kind.INVALID,
                    "\"" + system.asText().strip() + "\" is not a prompt reference; " + PromptRef.form()));
        }
        return prompts.load(ref).thenApply(loaded -> {
            PromptVersion v = loaded.version();
            PromptVersionRef used = new PromptVersionRef(v.name(), v.version());
            return v.chat() ? chat(c, v, ref, variables, used, loaded.staleReason())
                    : new Prepared(with(c, JsonNodeFactory.instance.textNode(fill(v.template(), variables, ref, v)),
                            c.messages()), List.of(used), loaded.staleReason());
        });
    }

    private Prepared chat(ConversationRequest c, PromptVersion v, PromptRef ref, Map<String, String> variables,
            PromptVersionRef used, String stale) {
        JsonNode template;
        try {
            template = json.readTree(v.template());
        } catch (java.io.IOException e) {
            throw new PromptException(PromptException.Kind.INVALID, "prompt " + ref.uri() + " (version " + v.version()
                    + ") is a chat prompt whose messages are not JSON");
        }
        StringBuilder system = new StringBuilder();
        List<JsonNode> messages = new ArrayList<>();
        for (JsonNode m : template) {
            String role = m.path("role").asText();
            String content = fill(m.path("content").asText(""), variables, ref, v);
            if ("system".equals(role)) {
                system.append(system.isEmpty() ? "" : "\n\n").append(content);
            } else {
                ObjectNode turn = JsonNodeFactory.instance.objectNode().put("role", role).put("content", content);
                messages.add(turn);
            }
        }
        messages.addAll(c.messages());
        checkAlternates(messages, ref, v);
        JsonNode sys = system.isEmpty() ? null : JsonNodeFactory.instance.textNode(system.toString());
        return new Prepared(with(c, sys, messages), List.of(used), stale);
    }

    private static void checkAlternates(List<JsonNode> messages, PromptRef ref, PromptVersion v) {
        String previous = null;
        for (JsonNode m : messages) {
            String role = m.path("role").asText();
            if (!"user".equals(role) && !"assistant".equals(role) || role.equals(previous)
                    || previous == null && !"user".equals(role)) {
                throw new PromptException(PromptException.Kind.INVALID, "prompt " + ref.uri() + " (version "
                        + v.version() + ") has messages that, before the request's, do not alternate user and "
                        + "assistant turns starting with a user turn");
            }
            previous = role;
        }
    }

    /** Fills {@code {{ name }}} from the variables; a variable the template needs and the request lacks is an error. */
    static String fill(String template, Map<String, String> variables, PromptRef ref, PromptVersion v) {
        if (template.contains("{%")) {
            throw new PromptException(PromptException.Kind.INVALID, "prompt " + ref.uri() + " (version " + v.version()
                    + ") is a Jinja2 template, which agentfn does not render; use {{ variable }} placeholders");
        }
        TreeSet<String> missing = new TreeSet<>();
        Matcher m = VARIABLE.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = variables.get(m.group(1));
            if (value == null) {
                missing.add(m.group(1));
                m.appendReplacement(out, "");
            } else {
                m.appendReplacement(out, Matcher.quoteReplacement(value));
            }
        }
        m.appendTail(out);
        if (!missing.isEmpty()) {
            throw new PromptException(PromptException.Kind.INVALID, "prompt " + ref.uri() + " (version " + v.version()
                    + ") needs the variables " + missing + "; send them in \"prompt_variables\"");
        }
        return out.toString();
    }

    private static ConversationRequest with(ConversationRequest c, JsonNode system, List<JsonNode> messages) {
        if (system == c.system() && messages == c.messages()) {
            return c;
        }
        return new ConversationRequest(messages, system, c.model(), c.maxTokens(), c.maxTurns(), c.tools(),
                c.sessionId(), c.user(), c.deadline());
    }
}
