package dev.agentfn.mlflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.json.JsonValues;
import dev.agentfn.testing.MlflowPython;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Reads a trace back through the Python client and checks it against {@link Fixtures#agentTrace}. */
final class TraceReadBack {
    private TraceReadBack() {
    }

    static JsonNode read(MlflowPython python, String traceId) {
        return python.json("""
                import json, mlflow
                t = mlflow.get_trace("%s")
                spans = []
                for s in t.data.spans:
                    spans.append({
                        "name": s.name, "span_id": s.span_id, "parent_id": s.parent_id,
                        "span_type": s.span_type, "inputs": s.inputs, "outputs": s.outputs,
                        "usage": s.get_attribute("mlflow.chat.tokenUsage"),
                        "status": s.status.status_code.value, "status_message": s.status.description,
                        "events": [{"name": e.name, "attributes": dict(e.attributes)} for e in s.events],
                        "attrs": {k: s.get_attribute(k) for k in
                                  ["agentfn.looks_like_json", "agentfn.quoted", "agentfn.number_text"]},
                    })
                print(json.dumps({
                    "trace_id": t.info.trace_id, "state": t.info.state.value,
                    "request_preview": t.info.request_preview, "response_preview": t.info.response_preview,
                    "metadata": t.info.trace_metadata, "tags": t.info.tags, "spans": spans}))
                """.formatted(traceId));
    }

    /** Same JSON value, ignoring Java-vs-Python number node classes. */
    static void assertJson(Object expected, JsonNode actual, String what) {
        assertEquals(JsonValues.parse(JsonValues.writeValue(expected)), JsonValues.parse(JsonValues.write(actual)), what);
    }

    static void assertAgentTrace(Trace trace, JsonNode back) {
        assertEquals(trace.info().traceId(), back.get("trace_id").asText());
        assertEquals("OK", back.get("state").asText());
        Map<String, JsonNode> spans = new HashMap<>();
        back.get("spans").forEach(s -> spans.put(s.get("name").asText(), s));
        assertEquals(trace.spans().stream().map(SpanData::name).collect(Collectors.toSet()), spans.keySet());
        assertEquals(4, back.get("spans").size(), "no duplicated spans");

        SpanData rootData = trace.spans().get(0);
        JsonNode root = spans.get(rootData.name());
        assertEquals("AGENT", root.get("span_type").asText());
        assertTrue(root.get("parent_id").isNull());
        assertEquals(rootData.spanId(), root.get("span_id").asText());
        assertJson(Fixtures.ROOT_INPUTS, root.get("inputs"), "root inputs");
        assertJson(Fixtures.ROOT_OUTPUTS, root.get("outputs"), "root outputs");
        assertEquals("{\"not\":\"an object\"}", root.get("attrs").get("agentfn.looks_like_json").asText());
        assertEquals("\"quoted\"", root.get("attrs").get("agentfn.quoted").asText());
        assertTrue(root.get("attrs").get("agentfn.number_text").isTextual());
        assertEquals("42", root.get("attrs").get("agentfn.number_text").asText());

        for (String child : Set.of("llm_call_1", "Bash", "llm_call_2")) {
            assertEquals(rootData.spanId(), spans.get(child).get("parent_id").asText(), child + " parent");
        }
        JsonNode llm1 = spans.get("llm_call_1");
        assertEquals("CHAT_MODEL", llm1.get("span_type").asText());
        assertJson(Fixtures.USAGE_1, llm1.get("usage"), "usage is a dict of ints");
        assertTrue(llm1.get("usage").get("input_tokens").isInt());
        JsonNode llm2 = spans.get("llm_call_2");
        assertEquals("just a string input", llm2.get("inputs").asText());
        assertJson(java.util.List.of("a", 1, Map.of("b", 2.25)), llm2.get("outputs"), "list outputs");

        JsonNode tool = spans.get("Bash");
        assertEquals("TOOL", tool.get("span_type").asText());
        assertEquals("ERROR", tool.get("status").asText());
        assertEquals("RuntimeError: boom", tool.get("status_message").asText());
        assertEquals("plain text output", tool.get("outputs").asText());
        JsonNode event = tool.get("events").get(0);
        assertEquals("exception", event.get("name").asText());
        assertEquals("RuntimeError", event.get("attributes").get("exception.type").asText());
        assertEquals("{\"retry\":1}", event.get("attributes").get("agentfn.details").asText());

        JsonNode md = back.get("metadata");
        assertEquals("session-1", md.get(MlflowKeys.Metadata.SESSION).asText());
        assertEquals("user-1", md.get(MlflowKeys.Metadata.USER).asText());
        assertEquals("3", md.get(MlflowKeys.Metadata.SCHEMA_VERSION).asText());
        assertJson(Map.of("input_tokens", 34, "output_tokens", 12, "total_tokens", 46, "cache_read_input_tokens", 4),
                JsonValues.parse(md.get(MlflowKeys.Metadata.TOKEN_USAGE).asText()), "trace token usage");
        assertEquals("claude_code_conversation", back.get("tags").get(MlflowKeys.Tag.TRACE_NAME).asText());
        assertEquals("x", back.get("tags").get("agentfn.tag").asText());
        assertNotNull(back.get("request_preview").textValue(), "request preview");
        assertFalse(back.get("request_preview").asText().isEmpty());
        assertTrue(back.get("response_preview").asText().contains("4"), "response preview");
    }
}
