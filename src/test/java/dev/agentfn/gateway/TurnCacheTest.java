package dev.agentfn.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What the idle sweep keeps: a closed turn stays the session's latest until it is idle, like an open one. */
class TurnCacheTest {

    @Test
    void aClosedTurnStaysForItsBackgroundSubagentUntilItIsIdle() {
        TurnCache cache = new TurnCache(100);
        TurnState turn = cache.put(new TurnState("0af7651916cd43dd8448eb211c80319c", 1_000));
        cache.open("session-1", turn);
        turn.close(); // the main agent answered; a background subagent may still report back into the turn

        assertEquals(List.of(), cache.sweep(500), "not idle yet: nothing removed, nothing to abandon");
        assertSame(turn, cache.latestTurn("session-1").orElseThrow(), "the subagent's request still finds its turn");
        assertSame(turn, cache.get(turn.otelTraceId()).orElseThrow());

        assertEquals(List.of(), cache.sweep(2_000), "idle now: removed, and not abandoned (it was closed)");
        assertTrue(cache.latestTurn("session-1").isEmpty());
        assertTrue(cache.get(turn.otelTraceId()).isEmpty());
    }

    @Test
    void anIdleOpenTurnIsRemovedAndReturnedForClosing() {
        TurnCache cache = new TurnCache(100);
        TurnState turn = cache.put(new TurnState("4bf92f3577b34da6a3ce929d0e0e4736", 1_000));
        cache.open("session-2", turn);

        List<TurnCache.Open> idle = cache.sweep(2_000);
        assertEquals(1, idle.size());
        assertEquals("session-2", idle.get(0).sessionId());
        assertSame(turn, idle.get(0).state());
        assertTrue(cache.latestTurn("session-2").isEmpty());
    }
}
