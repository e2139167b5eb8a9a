package dev.agentfn.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AttributePolicyTest {
    final AttributePolicy policy = new AttributePolicy(true, 40, List.of("\\b\\d{4}-\\d{4}\\b"), List.of("hunter2-secret"));

    @Test
    void redactsBuiltInShapesConfiguredPatternsAndSecretsEverywhere() {
        Object cleaned = policy.clean(Map.of("a", List.of("key sk-ant-abcdefgh1234 card 1234-5678", "pw hunter2-secret")));
        assertEquals(Map.of("a", List.of("key [REDACTED] card [REDACTED]", "pw [REDACTED]")), cleaned);
    }

    @Test
    void secretsAreMatchedLiterallyNotAsRegex() {
        AttributePolicy p = new AttributePolicy(true, 100, List.of(), List.of("a.b*c"));
        assertEquals("x [REDACTED] axbc", p.redact("x a.b*c axbc"));
    }

    @Test
    void capsLongStringsWithAMarker() {
        String cut = (String) policy.clean("x".repeat(50));
        assertEquals("x".repeat(40) + "…[truncated 10 chars]", cut);
    }

    @Test
    void leavesCleanStringsAndNumbersAlone() {
        assertEquals("plain", policy.clean("plain"));
        assertEquals(42, policy.clean(42));
        assertFalse(policy.redact("sk-ant-short").contains("REDACTED"), "too short to be a key");
    }

    @Test
    void aTreeIsCleanedAsItsPlainCopyWouldBe() throws Exception {
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                {"model": "m", "n": 3, "x": 1.5, "ok": true, "gone": null, "list": [null, "sk-ant-abcdefgh1234", 2],
                 "deep": {"s": "%s", "e": []}}""".formatted("y".repeat(50)));
        Object viaPlain = policy.clean(dev.agentfn.conversation.SpanShapes.plain(tree));
        assertEquals(viaPlain, policy.cleanTree(tree));
        assertEquals(List.of("", "[REDACTED]", 2), ((Map<?, ?>) policy.cleanTree(tree)).get("list"));
        assertEquals(null, policy.cleanTree(tree.path("missing")));
    }
}
