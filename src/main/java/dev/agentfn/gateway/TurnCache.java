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

    synchronized Optional<TurnState> openTurn(String sessionId) {
        return Optional.ofNullable(bySession.get(sessionId)).filter(s -> !s.closed());
    }

    /** Removes and returns the turns closed, or idle since before {@code idleBeforeNanos}; idle ones still open are returned. */
    synchronized List<Open> sweep(long idleBeforeNanos) {
        List<Open> idle = new ArrayList<>();
        Map<TurnState, String> sessions = new java.util.IdentityHashMap<>();
        bySession.forEach((session, s) -> sessions.put(s, session));
        var it = turns.values().iterator();
        while (it.hasNext()) {
            TurnState s = it.next();
            if (s.closed() || s.updatedNanos() < idleBeforeNanos) {
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
