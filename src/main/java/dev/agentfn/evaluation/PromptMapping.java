package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a row's {@code inputs} become the invocation request. agentfn's own rows are requests already
 * ({@code prompt} or {@code messages} and options); MLflow users write {@code inputs} as their predict function's
 * keyword arguments ({@code {"query": "What is machine learning?"}}). Such a map becomes {@code {"prompt": …}}:
 * its only text field, the field {@code prompt_key} names, or {@code prompt_template} filled with its fields.
 * The other input keys are not sent to the agent; judges still see the whole map as {@code {{ inputs }}}.
 */
public sealed interface PromptMapping {
    /** Fields of {@code POST /v1/invocations}: a map with any of them is taken as a request. */
    Set<String> REQUEST_FIELDS = Set.of("prompt", "messages", "system", "model", "max_tokens", "max_turns", "tools",
            "session_id", "user", "metadata", "prompt_variables");

    /** The request for these inputs; {@code where} names the row in errors. */
    ObjectNode request(ObjectNode inputs, String where);

    /** Requests as they are; any other map by its single text field. */
    record Auto() implements PromptMapping {
        @Override
        public ObjectNode request(ObjectNode inputs, String where) {
            if (REQUEST_FIELDS.stream().anyMatch(inputs::has)) {
                if (!inputs.has("prompt") && !inputs.has("messages")) {
                    throw new EvaluationException(where + ": inputs need \"prompt\" or \"messages\"");
                }
                return inputs;
            }
            List<String> texts = new ArrayList<>();
            inputs.fields().forEachRemaining(f -> {
                if (f.getValue().isTextual() && !f.getValue().asText().isBlank()) {
                    texts.add(f.getKey());
                }
            });
            if (texts.size() == 1) {
                return prompt(inputs.get(texts.get(0)).asText());
            }
            if (texts.isEmpty()) {
                throw new EvaluationException(where + ": inputs need \"prompt\" or \"messages\", or one text field to "
                        + "use as the prompt; inputs have " + names(inputs));
            }
            throw new EvaluationException(where + ": inputs have several text fields " + texts + " and it is not clear "
                    + "which is the prompt: set dataset.prompt_key (e.g. \"" + texts.get(0) + "\") or "
                    + "dataset.prompt_template (e.g. \"{{ " + texts.get(0) + " }}\")");
        }
    }

    /** {@code dataset.prompt_key}: that input is the prompt. */
    record Key(String key) implements PromptMapping {
        @Override
        public ObjectNode request(ObjectNode inputs, String where) {
            JsonNode prompt = inputs.path(key);
            if (!prompt.isTextual() || prompt.asText().isBlank()) {
                throw new EvaluationException(where + ": inputs." + key + " (dataset.prompt_key) must be a non-empty "
                        + "text; inputs have " + names(inputs));
            }
            return prompt(prompt.asText());
        }
    }

    /** {@code dataset.prompt_template}: {@code "Answer briefly: {{ query }}"}, filled with the inputs. */
    record Template(String template) implements PromptMapping {
        static final Pattern VARIABLE = Pattern.compile("\\{\\{\\s*([^{}\\s]+)\\s*}}");

        @Override
        public ObjectNode request(ObjectNode inputs, String where) {
            Matcher m = VARIABLE.matcher(template);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                JsonNode v = inputs.get(m.group(1));
                if (v == null || v.isNull()) {
                    throw new EvaluationException(where + ": dataset.prompt_template uses {{ " + m.group(1)
                            + " }}, which the inputs do not have; inputs have " + names(inputs));
                }
                m.appendReplacement(sb, Matcher.quoteReplacement(v.isTextual() ? v.asText() : v.toString()));
            }
            m.appendTail(sb);
            return prompt(sb.toString());
        }
    }

    /** From the dataset spec's {@code prompt_key} / {@code prompt_template}; both is a 400. */
    static PromptMapping of(String key, String template) {
        if (key != null && template != null) {
            throw new EvaluationException("dataset: give prompt_key or prompt_template, not both");
        }
        if (template != null && !Template.VARIABLE.matcher(template).find()) {
            throw new EvaluationException("dataset.prompt_template must use at least one input, e.g. \"{{ query }}\"");
        }
        return key != null ? new Key(key) : template != null ? new Template(template) : new Auto();
    }

    private static ObjectNode prompt(String text) {
        return JsonNodeFactory.instance.objectNode().put("prompt", text);
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
