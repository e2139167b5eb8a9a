package dev.agentfn.tracing.spool;

import dev.agentfn.LogText;
import dev.agentfn.mlflow.entities.Trace;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * A spool in a local directory. Each write of a trace is one file, written to a temporary name, fsynced, then
 * renamed into place and the directory fsynced: a crash leaves either the whole file or none under
 * its final name. Files are named {@code <request time ms>-<trace id>+<write stamp>.json}: names sort
 * oldest first, and the copies of one trace by the order they were written ({@link WriteStamps}: the stamp is
 * taken when a write is handed over for delivery, not when it reaches the disk). A trace is written more than
 * once (a gateway turn after each of its calls, each write holding the spans that call ended plus the root), so
 * each write is a copy of its own, and a listing returns the copies of a trace as one trace, merged as MLflow
 * merges them when they are sent in that order ({@link Trace#rewrittenBy}), under a handle that names them all.
 * A confirmation deletes only the copies its handle names; the newest of them stays while an earlier copy of
 * its trace still waits, so that the redelivery of that copy ends with the newer root and info, never sets a
 * finished trace back. (Files named {@code <request time ms>-<trace id>.json}, by an older agentfn, count as the
 * oldest copy of their trace.) Files that cannot be decoded (torn by a
 * crash, or written by another version) move to {@code corrupt/}, traces MLflow refused for good to
 * {@code rejected/}; both are logged and kept (moving a file back into the directory redelivers it).
 * Temporary files a crash left behind are removed when the spool opens.
 *
 * <p>Every file records the destination (tracking server and experiment, never a credential) it was
 * spooled for, and this spool returns only traces of its own destination: a file of another one, copied
 * or moved here, is neither sent nor moved nor dropped. A file with no recorded destination (written by
 * an older agentfn, and moved here by an operator) is taken as this directory's. {@link
 * #directoryFor} gives each destination a directory of its own below a shared root, so two deployments
 * on one host (or one volume) never meet by accident.
 *
 * <p>A copy spooled ahead of its export ({@link #putAhead}: a turn's last answer waits for it, and MLflow's
 * confirmation deletes it a moment later) is held in a slot of this process instead ({@link AheadSlots}): a file
 * written over again, which one fdatasync makes durable without the two journal commits a new file and its rename
 * take. Its handle starts with {@code ahead:}; {@link #keep} moves it into a file when its export fails, {@link
 * #close} at shutdown, and the next spool opened or listed on the directory when its process was killed.
 *
 * <p>Writes run in parallel: spooling is what every answer waits on when MLflow falls behind, so a
 * burst must not queue behind one lock. Each write forces its own file, and one directory fsync covers
 * every rename that finished before it started (group commit). The bound is kept with an in-memory
 * index of names, refreshed by every listing, instead of listing the directory on each write.
 */
public final class DirectoryTraceSpool implements TraceSpool {
    private static final Logger LOG = Logger.getLogger(DirectoryTraceSpool.class);
    private static final String SUFFIX = ".json";
    private static final String TMP = ".tmp-";
    /** Separates a file's trace from its write stamp; never part of a trace id. */
    private static final char STAMP = '+';
    /** Starts the handle of a copy held in a slot ({@link AheadSlots}), not in a file. */
    private static final String AHEAD = "ahead:";
    /** How often listings look for slots that ended processes left behind. */
    private static final long ABANDONED_LOOK_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    /** Separates the copies a handle names: never part of a file's name. */
    private static final String COPIES = "/";
    /**
     * What one listing reads at most, in bytes (at least one trace whatever its size): a gateway turn spooled during
     * an outage is one file per call, each holding the conversation so far.
     */
    static final long LISTING_BYTES = 64L << 20;

    private final Path dir;
    private final String destination;
    private final int maxTraces;
    private final TraceCodec codec;
    private final long listingBytes;
    // What the last listing saw; lets the drainer skip listing the directory after every delivered export.
    private volatile boolean mayHoldTraces = true;
    /** Names spooled, oldest first: the last listing plus what this process stored since. Guarded by itself. */
    private final TreeSet<String> index = new TreeSet<>();
    private long stores; // guarded by index: a listing that overlapped a store must not call the spool empty
    /** Renames finished so far; a directory fsync started after a rename's ticket makes that rename durable. */
    private final AtomicLong renames = new AtomicLong();
    private final Object dirSyncLock = new Object();
    private long renamesSynced; // guarded by dirSyncLock

    /** Names of writes {@link #claim claimed} whose put has not ended: they count as waiting. */
    private final Set<String> claimed = ConcurrentHashMap.newKeySet();
    /** Names of files found to belong to another destination: skipped without reading them again. */
    private final Set<String> foreign = ConcurrentHashMap.newKeySet();
    /** Copies put ahead of their export ({@link #putAhead}); their handles start with {@link #AHEAD}. */
    private final AheadSlots ahead;
    private volatile long lastLookForAbandoned;

    public DirectoryTraceSpool(Path dir, String destination, int maxTraces, TraceCodec codec) throws IOException {
        this(dir, destination, maxTraces, codec, LISTING_BYTES);
    }

    DirectoryTraceSpool(Path dir, String destination, int maxTraces, TraceCodec codec, long listingBytes)
            throws IOException {
        this.listingBytes = listingBytes;
        this.dir = dir;
        this.destination = Objects.requireNonNull(destination, "destination");
        this.maxTraces = maxTraces;
        this.codec = codec;
        Files.createDirectories(dir);
        open();
        this.ahead = AheadSlots.openOrNone(dir);
        takeOverAbandoned();
    }

    @Override
    public void claim(Trace trace, long stamp) {
        claimed.add(nameOf(trace, stamp));
    }

    @Override
    public String put(Trace trace, long stamp) throws IOException {
        String name = nameOf(trace, stamp);
        try {
            return store(trace, name);
        } finally {
            claimed.remove(name);
        }
    }

    private String store(Trace trace, String name) throws IOException {
        return store(codec.encode(trace, destination), name);
    }

    private String store(byte[] bytes, String name) throws IOException {
        Path tmp = dir.resolve(TMP + UUID.randomUUID());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        move(tmp, dir.resolve(name));
        syncRenames();
        dropOverflow(name);
        return name;
    }

    /**
     * Held in a slot ({@link AheadSlots}) when one is free: one forced write over blocks the slot already has, where
     * a file takes two journal commits (see {@link #put}). Else stored as a file.
     */
    @Override
    public String putAhead(Trace trace, long stamp) throws IOException {
        String name = nameOf(trace, stamp);
        try {
            byte[] bytes = codec.encode(trace, destination);
            return ahead.write(name, bytes) ? AHEAD + name : store(bytes, name);
        } finally {
            claimed.remove(name);
        }
    }

    @Override
    public String keep(String handle) throws IOException {
        return handle.startsWith(AHEAD) ? toFile(handle.substring(AHEAD.length())) : handle;
    }

    /** A copy held in a slot, stored as a file (forced) before its slot is freed; returns the file's name. */
    private String toFile(String name) throws IOException {
        byte[] bytes = ahead.bytesOf(name);
        if (bytes != null) {
            store(bytes, name);
            ahead.free(name);
        }
        return name;
    }

    /** Hands every copy still held in a slot over to the spool's files, so a later process finds them. */
    @Override
    public void close() {
        for (String name : ahead.names()) {
            try {
                toFile(name);
            } catch (IOException | RuntimeException e) {
                LOG.errorf("Trace copy %s stays in %s (%s): the next agentfn that opens the spool takes it over", name,
                        ahead.directory(), e.getMessage());
            }
        }
        ahead.close();
    }

    /** The trace ids of the copies held in slots, their exports in flight (diagnostics and tests). */
    public List<String> heldAheadTraceIds() {
        return ahead.names().stream().map(DirectoryTraceSpool::traceIdOf).toList();
    }

    /** Gives up this spool's slot lock without handing its copies over, as a killed process does (tests). */
    void crashForTest() {
        ahead.abandonForTest();
    }

    /** Moves the copies that ended processes held in slots into files (at most every 30 s). */
    private void takeOverAbandoned() {
        lastLookForAbandoned = System.nanoTime();
        AheadSlots.abandoned(dir, ahead.directory(), r -> {
            if (isTrace(r.name()) && copiesIn(r.name()).equals(List.of(r.name()))) { // one name, in this directory
                store(r.bytes(), r.name());
            }
        });
    }

    @Override
    public void confirmed(Trace trace, long stamp) throws IOException {
        String mine = nameOf(trace, stamp);
        String of = traceOf(mine);
        boolean earlierWaits = false;
        for (String name : waitingCopies(of)) {
            if (name.equals(mine)) {
                return; // this very write is spooled (it timed out before MLflow confirmed it)
            }
            earlierWaits |= earlierCopy(name, mine);
        }
        if (earlierWaits) {
            put(trace, stamp);
        }
    }

    private static String nameOf(Trace trace, long stamp) {
        return String.format("%013d-%s%c%016d%s", trace.info().requestTimeMillis(), trace.info().traceId(), STAMP, stamp,
                SUFFIX);
    }

    /** The file name without its write stamp: equal for every copy of one trace. */
    private static String traceOf(String name) {
        String bare = name.substring(0, name.length() - SUFFIX.length());
        int stamp = bare.lastIndexOf(STAMP);
        return stamp < 0 ? bare : bare.substring(0, stamp);
    }

    /** Whether {@code a} is a copy of the same trace written before {@code b}; unstamped (older agentfn) is oldest. */
    private static boolean earlierCopy(String a, String b) {
        if (a.equals(b) || !traceOf(a).equals(traceOf(b))) {
            return false;
        }
        boolean aStamped = a.lastIndexOf(STAMP) >= 0;
        boolean bStamped = b.lastIndexOf(STAMP) >= 0;
        return aStamped == bStamped ? a.compareTo(b) < 0 : !aStamped;
    }

    @Override
    public synchronized List<SpooledTrace> oldest(int max, Predicate<String> skip, Predicate<String> later) {
        if (System.nanoTime() - lastLookForAbandoned > ABANDONED_LOOK_NANOS) {
            takeOverAbandoned();
        }
        List<SpooledTrace> out = new ArrayList<>();
        long[] bytes = {0};
        List<List<String>> traces = new ArrayList<>(copiesByTrace(entries()).values());
        traces.sort(Comparator.comparing(copies -> later.test(traceIdOf(copies.get(0))))); // stable: oldest first in each
        for (List<String> copies : traces) {
            if (out.size() >= max || !out.isEmpty() && bytes[0] >= listingBytes) {
                break;
            }
            if (skip.test(traceIdOf(copies.get(0))) || copies.stream().anyMatch(skip)) {
                continue;
            }
            read(copies, bytes).ifPresent(out::add);
        }
        return out;
    }

    /** The names of a listing by trace, oldest trace first, each trace's copies in the order they were written. */
    private static Map<String, List<String>> copiesByTrace(List<Path> entries) {
        Map<String, List<String>> byTrace = new LinkedHashMap<>();
        for (Path p : entries) {
            String name = p.getFileName().toString();
            byTrace.computeIfAbsent(traceOf(name), t -> new ArrayList<>()).add(name);
        }
        byTrace.values().forEach(copies -> copies.sort((a, b) -> a.equals(b) ? 0 : earlierCopy(a, b) ? -1 : 1));
        return byTrace;
    }

    /**
     * The copies of one trace read and merged in write order; empty when none of them could be read as ours.
     * Adds the bytes read to {@code bytes[0]}.
     */
    private Optional<SpooledTrace> read(List<String> copies, long[] bytes) {
        Trace merged = null;
        List<String> read = new ArrayList<>(copies.size());
        for (String name : copies) {
            Path p = dir.resolve(name);
            try {
                byte[] file = Files.readAllBytes(p);
                bytes[0] += file.length;
                TraceCodec.Decoded d = codec.decode(file);
                if (d.destination() == null || d.destination().equals(destination)) {
                    merged = merged == null ? d.trace() : merged.rewrittenBy(d.trace());
                    read.add(name);
                } else {
                    leaveForeign(name, d.destination());
                }
            } catch (NoSuchFileException e) {
                forget(name); // delivered late or dropped meanwhile
            } catch (IOException | RuntimeException e) {
                setAside(p, "corrupt", "unreadable: " + e.getMessage());
            }
        }
        return merged == null ? Optional.empty() : Optional.of(new SpooledTrace(String.join(COPIES, read), merged));
    }

    /** The trace id in a file's name: what follows the request time. */
    private static String traceIdOf(String name) {
        String t = traceOf(name);
        return t.substring(t.indexOf('-') + 1);
    }

    @Override
    public void remove(String handle) {
        if (handle.startsWith(AHEAD)) {
            removeAhead(handle.substring(AHEAD.length()));
            return;
        }
        List<String> names = copiesIn(handle);
        if (names.isEmpty()) {
            return;
        }
        String newest = names.get(0);
        for (String n : names) {
            newest = earlierCopy(newest, n) ? n : newest;
        }
        String keep = earlierCopyWaits(newest, names) ? newest : null;
        for (String name : names) {
            if (!name.equals(keep)) {
                delete(name);
            }
        }
    }

    /** As {@link #remove} for a copy held in a slot: kept (as a file) while an earlier copy of its trace waits. */
    private void removeAhead(String name) {
        if (!earlierCopyWaits(name, List.of(name))) {
            ahead.free(name);
            return;
        }
        try {
            toFile(name);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Could not keep %s beside an earlier copy of its trace (%s); it stays in its slot until this "
                    + "process ends", name, e.getMessage());
        }
    }

    /** Whether a copy of {@code newest}'s trace written before it, and not among {@code confirmed}, is spooled. */
    private boolean earlierCopyWaits(String newest, List<String> confirmed) {
        for (String name : waitingCopies(traceOf(newest))) {
            if (earlierCopy(name, newest) && !confirmed.contains(name)) {
                return true;
            }
        }
        return false;
    }

    /** The names of a trace's copies that wait: spooled (as far as the index knows) or claimed. */
    private List<String> waitingCopies(String trace) {
        List<String> names;
        synchronized (index) {
            names = new ArrayList<>(index.subSet(trace, true, trace + Character.MAX_VALUE, false));
        }
        for (String name : claimed) {
            if (name.startsWith(trace)) {
                names.add(name);
            }
        }
        names.addAll(ahead.namesStartingWith(trace));
        return names;
    }

    private void delete(String name) {
        try {
            Files.deleteIfExists(dir.resolve(name));
            forget(name);
        } catch (IOException e) {
            LOG.warnf("Could not delete delivered trace %s from the spool: %s", name, e.getMessage());
        }
    }

    /** The file names a handle names; a name that could leave the directory is not one. */
    private static List<String> copiesIn(String handle) {
        List<String> names = new ArrayList<>();
        for (String name : handle.split(COPIES)) {
            if (!name.contains("\\") && !name.equals("..") && name.endsWith(SUFFIX)) {
                names.add(name);
            }
        }
        return names;
    }

    @Override
    public synchronized void reject(String handle, String reason) {
        for (String name : copiesIn(handle)) {
            Path p = dir.resolve(name);
            if (Files.exists(p)) {
                setAside(p, "rejected", "MLflow refused it: " + reason);
            }
        }
    }

    @Override
    public synchronized int size() {
        return entries().size();
    }

    @Override
    public boolean mayHoldTraces() {
        return mayHoldTraces;
    }

    public Path directory() {
        return dir;
    }

    public String destination() {
        return destination;
    }

    /**
     * The directory of one destination below a spool root: {@code <root>/to-<16 hex digits of the
     * destination's SHA-256>}. A {@code destination.txt} in it names the destination for operators.
     */
    public static Path directoryFor(Path root, String destination) throws IOException {
        Path dir = root.resolve("to-" + sha256Hex(destination).substring(0, 16));
        Files.createDirectories(dir);
        Path label = dir.resolve("destination.txt");
        if (!Files.exists(label)) {
            Files.writeString(label, destination + "\n");
        }
        return dir;
    }

    private static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Trace files directly in a spool root: written by an agentfn that did not record destinations. */
    public static long unlabelledIn(Path root) {
        try (Stream<Path> files = Files.list(root)) {
            return files.filter(p -> Files.isRegularFile(p) && isTrace(p.getFileName().toString())).count();
        } catch (IOException e) {
            return 0;
        }
    }

    /** Lists the directory (names only: {@code corrupt/} and {@code rejected/} do not end in .json) and resets the index. */
    private List<Path> entries() {
        long storesBefore;
        synchronized (index) {
            storesBefore = stores;
        }
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
                p -> isTrace(p.getFileName().toString()) && !foreign.contains(p.getFileName().toString()))) {
            files.forEach(found::add);
        } catch (IOException e) {
            LOG.errorf("Spool directory %s is unreadable: %s", dir, e.getMessage());
            return List.of();
        }
        found.sort(null);
        synchronized (index) {
            boolean overlapped = stores != storesBefore;
            if (!overlapped) {
                index.clear();
            }
            found.forEach(p -> index.add(p.getFileName().toString()));
            mayHoldTraces = overlapped || !found.isEmpty();
        }
        return found;
    }

    /** Adds a stored name to the index and drops the oldest traces beyond the bound. */
    private void dropOverflow(String stored) {
        List<String> drop = new ArrayList<>();
        synchronized (index) {
            index.add(stored);
            stores++;
            mayHoldTraces = true;
            while (index.size() > maxTraces) {
                drop.add(index.pollFirst());
            }
        }
        for (String name : drop) {
            String theirs = foreignDestination(name);
            if (theirs != null) {
                leaveForeign(name, theirs); // not ours to drop, even when the spool is full
                continue;
            }
            try {
                Files.deleteIfExists(dir.resolve(name));
                LOG.errorf("Spool full (%d traces): dropped the oldest trace %s; it is lost", maxTraces, name);
            } catch (IOException e) {
                LOG.warnf("Could not drop %s: %s", name, e.getMessage());
            }
        }
    }

    /** The destination a file records when it is another than this spool's; null for ours, unlabelled or unreadable. */
    private String foreignDestination(String name) {
        try {
            String d = codec.decode(Files.readAllBytes(dir.resolve(name))).destination();
            return d == null || d.equals(destination) ? null : d;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Another deployment's trace: not ours to send, move or drop; said once per file. */
    private void leaveForeign(String name, String itsDestination) {
        forget(name);
        if (foreign.add(name)) {
            LOG.warnf("Spooled trace %s is for %s, not for this deployment's %s; left where it is", name,
                    LogText.escape(itsDestination), destination);
        }
    }

    private void forget(String name) {
        synchronized (index) {
            index.remove(name);
        }
    }

    private void setAside(Path p, String folder, String why) {
        try {
            Path target = Files.createDirectories(dir.resolve(folder));
            Files.move(p, target.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            forget(p.getFileName().toString());
            LOG.errorf("Spooled trace %s %s; moved to %s", p.getFileName(), LogText.escape(why), target);
        } catch (IOException e) {
            LOG.errorf("Spooled trace %s %s, and could not be moved: %s", p, LogText.escape(why), e.getMessage());
        }
    }

    private static boolean isTrace(String fileName) {
        return fileName.endsWith(SUFFIX) && !fileName.startsWith(".");
    }

    /**
     * One look at the directory when the spool opens: a {@code .tmp-} file is a write that never reached its
     * rename (the trace was not spooled) and is removed; the traces seed the index the bound is kept with.
     */
    private void open() {
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(p -> {
                String n = p.getFileName().toString();
                if (n.startsWith(AheadSlots.SETUP)) {
                    AheadSlots.removeSetupLeftover(p);
                } else if (n.startsWith(TMP)) {
                    removeLeftover(p);
                } else if (isTrace(n)) {
                    index.add(n);
                }
            });
        } catch (IOException e) {
            LOG.warnf("Could not list spool directory %s: %s", dir, e.getMessage());
        }
    }

    private static void removeLeftover(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
            LOG.warnf("Removed %s, an unfinished spool write from an earlier process", tmp.getFileName());
        } catch (IOException e) {
            LOG.warnf("Could not remove %s: %s", tmp, e.getMessage());
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Makes this thread's rename durable. Writers queue here; whoever gets the lock fsyncs the directory
     * once for every rename finished before that fsync starts, and the writers it covered return at once.
     */
    private void syncRenames() {
        long mine = renames.incrementAndGet();
        synchronized (dirSyncLock) {
            if (renamesSynced >= mine) {
                return;
            }
            long covered = renames.get();
            syncDirectory();
            renamesSynced = covered;
        }
    }

    /** Makes renames durable; not every file system allows opening a directory, which is fine. */
    private void syncDirectory() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the file's own data was already forced
        }
    }
}
