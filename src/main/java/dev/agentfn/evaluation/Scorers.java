package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Builds scorers from their JSON definitions: {@code {"type":"judge",…}} or a code scorer type. */
public final class Scorers {
    private final String defaultJudgeModel;
    private final Judge.Services judges;

    public Scorers(String defaultJudgeModel, Judge.Services judges) {
        this.defaultJudgeModel = defaultJudgeModel;
        this.judges = judges;
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
            return Judge.create(spec, where, defaultJudgeModel, judges);
        }
        if (!CodeScorers.TYPES.contains(type)) {
            Set<String> known = new TreeSet<>(CodeScorers.TYPES);
            known.add("judge");
            throw new EvaluationException(where + ": unknown scorer '" + type + "'; known: " + known);
        }
        return CodeScorers.create(type, spec, where);
    }

    /** A bare string names a code scorer without options: {@code "no_error"}. */
    private static JsonNode objectOf(String type) {
        return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("type", type);
    }
}
