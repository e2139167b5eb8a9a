import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.spool.DirectoryTraceSpool;
import dev.agentfn.tracing.spool.SpoolTraces;
import dev.agentfn.tracing.spool.TraceCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bursts of spool writes, as the turn-ending answers of a burst of turns wait for them with
 * {@code turn-end-wait=spool}: W threads put one trace each at the same moment, then every write is confirmed
 * (removed), and the next burst follows after a pause. Prints one JSON line: each put's latency and each burst's
 * (its last put), in microseconds. Run by bench/spool_burst.py against two builds.
 *
 * <pre>java -cp classes:test-classes:libs/* SpoolBurst DIR BURSTS WRITERS PAUSE_MS</pre>
 */
public final class SpoolBurst {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        int bursts = Integer.parseInt(args[1]);
        int writers = Integer.parseInt(args[2]);
        long pauseMs = Long.parseLong(args[3]);
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, "bench destination", 100_000,
                new TraceCodec(new ObjectMapper()));
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CyclicBarrier start = new CyclicBarrier(writers);
        List<Long> puts = Collections.synchronizedList(new ArrayList<>());
        List<Long> burstTimes = new ArrayList<>();
        for (int b = 0; b < bursts; b++) {
            List<Future<String>> handles = new ArrayList<>();
            long[] ends = new long[writers];
            long[] begin = new long[1];
            for (int w = 0; w < writers; w++) {
                int i = w;
                Trace t = SpoolTraces.turnWrites(traceId()).get(1);
                handles.add(pool.submit(() -> {
                    start.await();
                    long t0 = System.nanoTime();
                    if (i == 0) {
                        begin[0] = t0;
                    }
                    String h = spool.put(t);
                    ends[i] = System.nanoTime();
                    puts.add((ends[i] - t0) / 1000);
                    return h;
                }));
            }
            for (Future<String> h : handles) {
                spool.remove(h.get());
            }
            long last = 0;
            for (long e : ends) {
                last = Math.max(last, e);
            }
            burstTimes.add((last - begin[0]) / 1000);
            spool.oldest(1); // the drainer's listing: where writes left waiting would be forced
            Thread.sleep(pauseMs);
        }
        pool.shutdown();
        System.out.println("{\"puts_us\":" + puts + ",\"bursts_us\":" + burstTimes + "}");
    }

    private static String traceId() {
        byte[] b = new byte[16];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
