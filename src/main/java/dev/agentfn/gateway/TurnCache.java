package dev.agentfn.gateway;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * This instance's cache of open turns, bounded (least recently used turns go first: their state is also in
 * MLflow). Also remembers each session's open turn, which a subagent's requests join.
 */
final class TurnCache {
    /** An open turn and the session it belongs to. */
    record Open(String sessionId, TurnState state) {
    }

    private final int max;
    private final Map<String, TurnState> turns;
    private final Map<String, TurnState> bySession;

    TurnCache(int max) {
        this.max = max;
        this.turns = lru();
        this.bySession = lru();
    }

    private <V> Map<String, V> lru() {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > max;
            }
        };
    }

    synchronized Optional<TurnState> get(String traceId) {
        return Optional.ofNullable(turns.get(traceId));
    }

    synchronized TurnState put(TurnState s) {
        turns.put(s.otelTraceId(), s);
        return s;
    }

    synchronized TurnState putIfAbsent(TurnState s) {
        return turns.computeIfAbsent(s.otelTraceId(), k -> s);
    }

    synchronized void open(String sessionId, TurnState s) {
        bySession.put(sessionId, s);
    }

    /**
     * The session's latest turn, even if its main agent already answered: a background subagent may still be
     * working for it (Claude Code's Agent tool returns at once and the agent reports back later in the same turn).
     */
    synchronized Optional<TurnState> latestTurn(String sessionId) {
        return Optional.ofNullable(bySession.get(sessionId));
    }

    /**
     * Removes the turns idle since before {@code idleBeforeNanos} and returns those of them still open. A closed turn
     * stays until it is idle too: a background subagent may still report back into it, and must find it here (else
     * it would look the turn up in MLflow and count its call in a copy of the state that the turn's last write
     * never sees).
     */
    synchronized List<Open> sweep(long idleBeforeNanos) {
        List<Open> idle = new ArrayList<>();
        Map<TurnState, String> sessions = new java.util.IdentityHashMap<>();
        bySession.forEach((session, s) -> sessions.put(s, session));
        var it = turns.values().iterator();
        while (it.hasNext()) {
            TurnState s = it.next();
            if (s.updatedNanos() < idleBeforeNanos) {
                it.remove();
                String session = sessions.get(s);
                if (session != null) {
                    bySession.remove(session);
                }
                if (!s.closed()) {
                    idle.add(new Open(session, s));
                }
            }
        }
        return idle;
    }
}
