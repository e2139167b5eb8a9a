package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TraceSamplerTest {

    @Test
    void samplingIsStablePerTraceAndNearTheRate() {
        int picked = 0;
        for (int i = 0; i < 10_000; i++) {
            String id = "tr-" + Integer.toHexString(i * 7919);
            boolean once = TraceSampler.sampled(id, "m", 0.25);
            assertEquals(once, TraceSampler.sampled(id, "m", 0.25), "the same answer every time");
            picked += once ? 1 : 0;
        }
        assertTrue(picked > 2300 && picked < 2700, "about a quarter: " + picked);
        assertTrue(TraceSampler.sampled("anything", "m", 1.0));
    }

    @Test
    void protobufJsonShapes() {
        assertEquals(1250, TraceSampler.durationMs("1.250s"));
        assertEquals(0, TraceSampler.durationMs(""));
        assertEquals("0102030405060708", TraceSampler.spanId("AQIDBAUGBwg="));
        assertEquals("0102030405060708", TraceSampler.spanId("0102030405060708"));
        assertEquals("agentfn.monitor.my_monitor_1", TraceSampler.tagFor("my monitor!1"));
    }
}
