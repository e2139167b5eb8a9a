package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class CodeScorersTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode spec(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static DatasetRow row(String expectations) {
        return new DatasetRow(0, "line 1", (ObjectNode) spec("{\"prompt\":\"p\"}"), (ObjectNode) spec(expectations));
    }

    static RowOutcome ok(String output) {
        return new RowOutcome("tr-1", output, null, 120, 0.002, 300, List.of("weather"));
    }

    static Assessment score(String type, String spec, DatasetRow row, RowOutcome o) {
        return CodeScorers.create(type, spec(spec), "scorers[0]").score(row, o).join();
    }

    @Test
    void exactMatchAndContainsCompareWithExpectedResponse() {
        DatasetRow r = row("{\"expected_response\":\"Paris\"}");
        assertEquals(true, score("exact_match", "{}", r, ok(" Paris\n")).value());
        assertEquals(false, score("exact_match", "{}", r, ok("Paris, France")).value());
        assertEquals(true, score("contains", "{}", r, ok("It is Paris.")).value());
        Assessment missing = score("contains", "{}", row("{}"), ok("x"));
        assertNull(missing.value());
        assertTrue(missing.error().contains("expected_response"));
        Assessment failed = score("exact_match", "{}", r, new RowOutcome("tr", null, "boom", 1, 0, 0, List.of()));
        assertTrue(failed.error().contains("boom"));
    }

    @Test
    void regexToolsAndNoError() {
        assertEquals(true, score("regex", "{\"pattern\":\"\\\\d+\"}", row("{}"), ok("42")).value());
        assertEquals(true, score("expected_tools_called", "{}", row("{\"expected_tools\":[\"weather\"]}"), ok("")).value());
        Assessment tools = score("expected_tools_called", "{}", row("{\"expected_tools\":[{\"name\":\"clock\"}]}"), ok(""));
        assertEquals(false, tools.value());
        assertTrue(tools.rationale().contains("clock"));
        assertEquals(false, score("no_error", "{}", row("{}"), new RowOutcome(null, null, "x", 1, 0, 0, List.of())).value());
        assertEquals("named", CodeScorers.create("no_error", spec("{\"name\":\"named\"}"), "s").name());
    }

    @Test
    void thresholds() {
        assertEquals(true, score("latency_under_ms", "{\"threshold\":500}", row("{}"), ok("")).value());
        assertEquals(false, score("cost_under_usd", "{\"threshold\":0.001}", row("{}"), ok("")).value());
        Assessment tokens = score("tokens_under", "{\"threshold\":301}", row("{}"), ok(""));
        assertEquals(true, tokens.value());
        assertTrue(tokens.rationale().contains("300"));
    }

    @Test
    void badDefinitionsFailAtDefinitionTime() {
        assertThrows(EvaluationException.class, () -> CodeScorers.create("regex", spec("{}"), "s"));
        assertThrows(EvaluationException.class, () -> CodeScorers.create("regex", spec("{\"pattern\":\"(\"}"), "s"));
        assertThrows(EvaluationException.class, () -> CodeScorers.create("tokens_under", spec("{\"threshold\":\"x\"}"), "s"));
    }

    @Test
    void jsonSchemaValidatesTheResponse() {
        String spec = """
                {"schema":{"type":"object","required":["city","temp"],"additionalProperties":false,
                  "properties":{"city":{"type":"string","minLength":2},"temp":{"type":"number","minimum":-90},
                                "tags":{"type":"array","items":{"enum":["cold","warm"]},"uniqueItems":true}}}}""";
        DatasetRow r = row("{}");
        Assessment good = score("json_schema", spec, r, ok("```json\n{\"city\":\"Oslo\",\"temp\":-3,\"tags\":[\"cold\"]}\n```"));
        assertEquals(true, good.value(), good.rationale());
        Assessment bad = score("json_schema", spec, r, ok("{\"city\":\"O\",\"tags\":[\"hot\"],\"x\":1}"));
        assertEquals(false, bad.value());
        assertTrue(bad.rationale().contains("missing required property \"temp\""), bad.rationale());
        assertTrue(bad.rationale().contains("/city: shorter than minLength 2"), bad.rationale());
        assertTrue(bad.rationale().contains("/tags/0: not one of"), bad.rationale());
        assertTrue(bad.rationale().contains("property \"x\" is not allowed"), bad.rationale());
        assertEquals(false, score("json_schema", spec, r, ok("Oslo is cold")).value());
        assertTrue(score("json_schema", spec, r, new RowOutcome("t", null, "boom", 1, 0, 0, List.of())).error()
                .contains("boom"));
        EvaluationException unsupported = org.junit.jupiter.api.Assertions.assertThrows(EvaluationException.class,
                () -> CodeScorers.create("json_schema", spec("{\"schema\":{\"$ref\":\"#/x\"}}"), "scorers[2]"));
        assertTrue(unsupported.getMessage().startsWith("scorers[2].schema: unsupported JSON Schema keyword \"$ref\""));
        org.junit.jupiter.api.Assertions.assertThrows(EvaluationException.class,
                () -> CodeScorers.create("json_schema", spec("{}"), "scorers[0]"));
    }
}
