package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import dev.agentfn.invocation.agent.PromptRef;
import dev.agentfn.invocation.agent.Prompts;

/** Builds scorers from their JSON definitions: {@code {"type":"judge",…}} or a code scorer type. */
public final class Scorers {
    private final String defaultJudgeModel;
    private final Judge.Services judges;
    private final Prompts prompts;

    public Scorers(String defaultJudgeModel, Judge.Services judges) {
        this(defaultJudgeModel, judges, null);
    }

    /** @param prompts loads a judge's instructions that name a registered prompt; null: such names are refused */
    public Scorers(String defaultJudgeModel, Judge.Services judges, Prompts prompts) {
        this.defaultJudgeModel = defaultJudgeModel;
        this.judges = judges;
        this.prompts = prompts;
    }

    public List<Scorer> create(JsonNode specs) {
        if (specs == null || !specs.isArray() || specs.isEmpty()) {
            throw new EvaluationException("\"scorers\" must be a non-empty list");
        }
        List<Scorer> scorers = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < specs.size(); i++) {
            String where = "scorers[" + i + "]";
            Scorer s = one(specs.get(i), where);
            if (!names.add(s.name())) {
                throw new EvaluationException(where + ": scorer name '" + s.name() + "' is used twice");
            }
            if (s.name().contains("/")) {
                throw new EvaluationException(where + ": scorer name '" + s.name() + "' may not contain '/'");
            }
            scorers.add(s);
        }
        return scorers;
    }

    private Scorer one(JsonNode spec, String where) {
        if (spec.isTextual()) {
            return one(objectOf(spec.asText()), where);
        }
        String type = spec.path("type").asText("");
        if (type.equals("judge")) {
            return Judge.create(registered(spec, where), where, defaultJudgeModel, judges);
        }
        if (!CodeScorers.TYPES.contains(type)) {
            Set<String> known = new TreeSet<>(CodeScorers.TYPES);
            known.add("judge");
            throw new EvaluationException(where + ": unknown scorer '" + type + "'; known: " + known);
        }
        return CodeScorers.create(type, spec, where);
    }

    /**
     * A judge whose instructions name a registered text prompt ({@code prompts:/name/version} or {@code @alias}) is
     * the judge with that prompt's template as its instructions; its {@code {{ inputs }}}, {@code {{ outputs }}}…
     * are the judge's to fill. Called on a worker thread (the evaluation request is blocking), so it waits for MLflow.
     */
    private JsonNode registered(JsonNode spec, String where) {
        String instructions = spec.path("instructions").asText("");
        if (!PromptRef.looksLikeReference(instructions)) {
            return spec;
        }
        PromptRef ref = PromptRef.parse(instructions).orElseThrow(() -> new EvaluationException(where
                + ": \"instructions\" \"" + instructions.strip() + "\" is not a prompt reference; a registered prompt "
                + "is named prompts:/<name>/<version> or prompts:/<name>@<alias>"));
        if (prompts == null) {
            throw new EvaluationException(where + ": \"instructions\" names a registered prompt, but no MLflow "
                    + "tracking server is configured");
        }
        Prompts.Loaded loaded;
        try {
            loaded = prompts.load(ref).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw new EvaluationException(where + ": " + dev.agentfn.Futures.unwrap(e).getMessage());
        }
        if (loaded.version().chat()) {
            throw new EvaluationException(where + ": prompt " + ref.uri() + " is a chat prompt; a judge's "
                    + "instructions must be a text prompt");
        }
        return ((com.fasterxml.jackson.databind.node.ObjectNode) spec.deepCopy()).put("instructions",
                loaded.version().template());
    }

    /** A bare string names a code scorer without options: {@code "no_error"}. */
    private static JsonNode objectOf(String type) {
        return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("type", type);
    }
}
