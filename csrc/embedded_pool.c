/* embedded_pool.c - handles, lock counts and two-way compaction over one array. Blocks are
 * placed by good fit (a two-level size-class index of the free gaps, as TLSF keeps: a constant
 * number of steps) or, on request, by first fit (a walk of the live blocks in address order). */
#include "embedded_pool.h"

#include <string.h>

/* The only global in the library: the embedded pool's statically allocated memory. */
static _Alignas(max_align_t) unsigned char embedded_pool_memory[EMBEDDED_POOL_CAPACITY];

/* "No slot" in a 16-bit link. */
#define NONE 0xFFFFu

/* Size classes of free gaps, TLSF's two levels. A gap of u units (EMBEDDED_POOL_ALIGN bytes
 * each) is in row 0 when u < CLASS_SL (one class per unit), else in row floor(log2 u) - 1 and
 * in the column given by the CLASS_SL_LOG2 bits below u's top bit: four classes per power of
 * two, so a gap found one class up from a request is at most 25% larger than it needs. Gaps
 * of 2^(CLASS_FL+1) units (64 KiB) and more share the last class, whose gaps are checked
 * before use: that keeps the index (in every pool's header) at 48 list heads. */
#define CLASS_SL_LOG2 2
#define CLASS_SL (1u << CLASS_SL_LOG2)
#define CLASS_FL 12
#define CLASS_COUNT (CLASS_FL * CLASS_SL)
_Static_assert(CLASS_COUNT <= 64, "every class has a bit in one 64-bit word");

/* One table slot; index nslots is a sentinel that heads the address order, ends at the start
 * of the data area and owns the gap before the first block. Invariants: a slot is live exactly
 * when size > 0; live blocks, linked by prev/next in address order, each occupy
 * [offset, offset + rounded(size)) inside the data area, aligned, overlapping no other; the
 * gap after a live block (or the sentinel) belongs to it, and with good fit every non-empty
 * gap is on exactly one size-class list (gap_prev/gap_next) - the one its size maps to; lock
 * counts only on live slots; generation never 0 and bumped on every free. */
typedef struct emb_slot {
    uint32_t offset;          /* block start, from the pool's base */
    uint32_t size;            /* requested bytes; 0 when the slot is free */
    unsigned generation : 24; /* handles must carry this value */
    unsigned lock : 8;        /* lock count: the block may not move while > 0 */
    uint16_t prev, next;      /* neighbours in address order (the sentinel closes the ring) */
    uint16_t gap_prev;        /* the size-class list of the gap after this block */
    uint16_t gap_next;
} emb_slot;

_Static_assert(sizeof(emb_slot) == 20, "a slot is 20 bytes: offsets, sizes and links are narrow");
_Static_assert(EMBEDDED_POOL_MAX_SLOTS < NONE, "the sentinel's index fits a link and is not NONE");
_Static_assert(EMBEDDED_POOL_ALIGN % _Alignof(emb_slot) == 0, "the table keeps blocks aligned");

/* The header at the start of the pool memory, then the free-slot bitmap, then nslots + 1 slots
 * (the last is the sentinel), then the data area. */
struct embedded_pool {
    size_t size;          /* bytes from base to the end of the usable memory */
    size_t data_start;    /* offset of the data area (after the table) */
    size_t nslots;        /* slots in the table */
    size_t nlive;         /* live slots */
    size_t used;          /* bytes in live blocks, rounding included */
    unsigned flags;       /* EMB_* flags */
    emb_hooks hooks;      /* critical-section hooks (no-ops by default) */
    size_t compactions;   /* compaction passes */
    size_t bytes_moved;   /* bytes copied by moves */
    size_t steps;         /* table entries and index words visited by the current/last call */
    uint64_t *free_slots; /* bit i set while slot i is free; bits past nslots stay clear */
    uint64_t *free_words; /* bit w set while free_slots[w] has a free slot (two levels: a free
                           * slot is found in 2 steps for up to 4096 slots) */
    emb_slot *slots;      /* the allocation table */
    uint64_t class_map;   /* good fit: bit c set when class c has a gap (all 48 classes fit one
                           * word, so one find-first-set picks a class) */
    uint16_t class_head[CLASS_COUNT]; /* first gap owner of each class, or NONE */
};

/* Without hooks (NULL, the default) the calls are skipped: an indirect call on every
 * operation is not free. */
static void section_enter(const embedded_pool *p)
{
    if (p->hooks.enter) p->hooks.enter(p->hooks.ctx);
}

/* Leave the critical section and pass a result through, so every return path is balanced. */
static int section_exit(const embedded_pool *p, int result)
{
    if (p->hooks.exit) p->hooks.exit(p->hooks.ctx);
    return result;
}

/* The pool's memory starts with its header, so the header's address is the base. */
static unsigned char *pool_base(embedded_pool *p)
{
    return (unsigned char *)p;
}

static int pool_good_fit(const embedded_pool *p)
{
    return !(p->flags & EMB_FIRST_FIT);
}

/* Bit scans: one instruction where the compiler has it, a short loop elsewhere. */
static unsigned bit_high(uint64_t v)
{
#if defined(__GNUC__)
    return 63u - (unsigned)__builtin_clzll(v);
#else
    unsigned r = 0;
    while (v >>= 1) r++;
    return r;
#endif
}

static unsigned bit_low(uint64_t v)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(v);
#else
    unsigned r = 0;
    while (!(v & 1)) v >>= 1, r++;
    return r;
#endif
}

static size_t block_extent(size_t size)
{
    return (size + (EMBEDDED_POOL_ALIGN - 1)) & ~(size_t)(EMBEDDED_POOL_ALIGN - 1);
}

static size_t slot_end(const emb_slot *s)
{
    return s->offset + block_extent(s->size);
}

/* Where the block after slot i starts: the pool's end after the last block. */
static size_t slot_next_start(const embedded_pool *p, size_t i)
{
    size_t n = p->slots[i].next;
    return n == p->nslots ? p->size : p->slots[n].offset;
}

/* Free bytes between slot i's block and the next one. */
static size_t gap_after(const embedded_pool *p, size_t i)
{
    return slot_next_start(p, i) - slot_end(&p->slots[i]);
}

/* The class of a gap of `units` units as one index, row * CLASS_SL + col (the last class for
 * all the largest gaps). Above row 0, units >> (top - CLASS_SL_LOG2) is CLASS_SL + col, so the
 * index is that plus CLASS_SL * (top - CLASS_SL_LOG2): no separate row and column. */
static unsigned class_of(size_t units)
{
    if (units < CLASS_SL) return (unsigned)units;
    unsigned top = bit_high(units);
    size_t c = (units >> (top - CLASS_SL_LOG2)) + (size_t)CLASS_SL * (top - CLASS_SL_LOG2);
    return c < CLASS_COUNT ? (unsigned)c : CLASS_COUNT - 1;
}

static uint64_t class_bit(unsigned c)
{
    return (uint64_t)1 << c;
}

/* Put the gap after slot i, `gap` bytes, on its class list (nothing when it is empty or with
 * first fit). Callers pass the size they know, so no neighbour is read twice. */
static inline void gap_link_sized(embedded_pool *p, size_t i, size_t gap)
{
    if (!pool_good_fit(p) || gap == 0) return;
    unsigned c = class_of(gap / EMBEDDED_POOL_ALIGN);
    emb_slot *s = &p->slots[i];
    uint16_t head = p->class_head[c];
    s->gap_prev = NONE;
    s->gap_next = head;
    if (head != NONE) p->slots[head].gap_prev = (uint16_t)i;
    p->class_head[c] = (uint16_t)i;
    p->class_map |= class_bit(c);
    p->steps++;
}

/* Take the gap after slot i, `gap` bytes, off its class list; before that gap changes size. */
static inline void gap_unlink_sized(embedded_pool *p, size_t i, size_t gap)
{
    if (!pool_good_fit(p) || gap == 0) return;
    const emb_slot *s = &p->slots[i];
    if (s->gap_next != NONE) p->slots[s->gap_next].gap_prev = s->gap_prev;
    if (s->gap_prev != NONE) {
        p->slots[s->gap_prev].gap_next = s->gap_next;
    } else { /* only a list's head needs its class: the class's head and bit change */
        unsigned c = class_of(gap / EMBEDDED_POOL_ALIGN);
        p->class_head[c] = s->gap_next;
        if (s->gap_next == NONE) p->class_map &= ~class_bit(c);
    }
    p->steps++;
}

static void gap_link(embedded_pool *p, size_t i)
{
    gap_link_sized(p, i, gap_after(p, i));
}

static void gap_unlink(embedded_pool *p, size_t i)
{
    gap_unlink_sized(p, i, gap_after(p, i));
}

/* Every gap on its list again, after compaction moved blocks: O(live). */
static void index_rebuild(embedded_pool *p)
{
    if (!pool_good_fit(p)) return;
    memset(p->class_head, 0xFF, sizeof p->class_head);
    p->class_map = 0;
    size_t k = p->nslots;
    do {
        gap_link(p, k);
        k = p->slots[k].next;
    } while (k != p->nslots);
}

/* Good fit: the owner of a gap of at least `extent` bytes from the index, or NONE. The request
 * is rounded up to the next class, so any gap there fits (but in the last class, which is
 * checked); failing that, the head of the request's own class is tried. Constant steps. */
static size_t gap_good_fit(embedded_pool *p, size_t extent)
{
    size_t units = extent / EMBEDDED_POOL_ALIGN, rounded = units, found = NONE;
    if (units >= CLASS_SL) rounded += ((size_t)1 << (bit_high(units) - CLASS_SL_LOG2)) - 1;
    p->steps++;
    uint64_t above = p->class_map & (~(uint64_t)0 << class_of(rounded));
    if (above) {
        unsigned c = bit_low(above);
        found = p->class_head[c];
        if (c != CLASS_COUNT - 1 || gap_after(p, found) >= extent) return found;
    }
    found = p->class_head[class_of(units)];
    return found != NONE && gap_after(p, found) >= extent ? found : NONE;
}

/* First fit: the owner of the lowest gap of at least `extent` bytes, or NONE. It checks each
 * gap's real size, so a new block never runs into the next live one. O(live). */
static size_t gap_first_fit(embedded_pool *p, size_t extent)
{
    size_t k = p->nslots;
    do {
        p->steps++;
        if (gap_after(p, k) >= extent) return k;
        k = p->slots[k].next;
    } while (k != p->nslots);
    return NONE;
}

static size_t gap_find(embedded_pool *p, size_t extent)
{
    return pool_good_fit(p) ? gap_good_fit(p, extent) : gap_first_fit(p, extent);
}

/* Link block i into the address order right after slot `at` (its block starts at at's end):
 * at's gap shrinks to nothing and i owns what is left of it. */
static inline void block_attach(embedded_pool *p, size_t at, size_t i)
{
    emb_slot *s = &p->slots[i];
    size_t gap = gap_after(p, at), extent = block_extent(s->size);
    gap_unlink_sized(p, at, gap);
    s->prev = (uint16_t)at;
    s->next = p->slots[at].next;
    p->slots[s->next].prev = (uint16_t)i;
    p->slots[at].next = (uint16_t)i;
    gap_link_sized(p, i, gap - extent);
    p->used += extent;
}

/* Take block i out of the address order; its bytes and its gap join the gap before it. */
static inline void block_detach(embedded_pool *p, size_t i)
{
    emb_slot *s = &p->slots[i];
    size_t before = gap_after(p, s->prev), after = gap_after(p, i), extent = block_extent(s->size);
    gap_unlink_sized(p, s->prev, before);
    gap_unlink_sized(p, i, after);
    p->slots[s->prev].next = s->next;
    p->slots[s->next].prev = s->prev;
    gap_link_sized(p, s->prev, before + extent + after);
    p->used -= extent;
}

static void block_move(embedded_pool *p, emb_slot *s, size_t to)
{
    if (s->offset == to) return;
    memmove(pool_base(p) + to, pool_base(p) + s->offset, s->size);
    p->bytes_moved += s->size;
    s->offset = (uint32_t)to;
}

/* Slide unlocked blocks from `from` up to (not including) `stop` toward `floor`; locked
 * blocks stay as islands. */
static void compact_down(embedded_pool *p, size_t from, size_t stop, size_t floor)
{
    size_t cursor = floor;
    for (size_t k = from; k != stop; k = p->slots[k].next) {
        emb_slot *s = &p->slots[k];
        if (s->lock == 0 && s->offset > cursor) block_move(p, s, cursor);
        cursor = slot_end(s);
    }
}

/* Slide unlocked blocks from `from` back to (not including) `stop` toward `ceiling`. */
static void compact_up(embedded_pool *p, size_t from, size_t stop, size_t ceiling)
{
    size_t cursor = ceiling;
    for (size_t k = from; k != stop; k = p->slots[k].prev) {
        emb_slot *s = &p->slots[k];
        size_t extent = block_extent(s->size);
        if (s->lock == 0 && s->offset + extent < cursor) block_move(p, s, cursor - extent);
        cursor = s->offset;
    }
}

/* Compaction toward the start of the data area, around locked blocks: O(live). */
static void pool_compact(embedded_pool *p)
{
    p->steps += p->nlive;
    compact_down(p, p->slots[p->nslots].next, p->nslots, p->data_start);
    index_rebuild(p);
    p->compactions++;
}

/* Words of the free-slot bitmap, and of its summary, for `slots` slots. */
static size_t bitmap_words(size_t slots)
{
    return (slots + 63) / 64;
}

/* Free-slot bitmap: the lowest free slot, marked used (nslots when none). */
static size_t slot_take(embedded_pool *p)
{
    size_t summaries = bitmap_words(bitmap_words(p->nslots));
    for (size_t s = 0; s < summaries; s++) {
        p->steps++;
        if (!p->free_words[s]) continue;
        size_t w = s * 64 + bit_low(p->free_words[s]);
        unsigned bit = bit_low(p->free_slots[w]);
        p->steps++;
        p->free_slots[w] &= ~((uint64_t)1 << bit);
        if (!p->free_slots[w]) p->free_words[s] &= ~((uint64_t)1 << (w % 64));
        return w * 64 + bit;
    }
    return p->nslots;
}

static void slot_release(embedded_pool *p, size_t i)
{
    p->free_slots[i / 64] |= (uint64_t)1 << (i % 64);
    p->free_words[i / 4096] |= (uint64_t)1 << (i / 64 % 64);
}

static int slot_is_free(const embedded_pool *p, size_t i)
{
    return (int)((p->free_slots[i / 64] >> (i % 64)) & 1);
}

/* Offsets of the bitmaps (slots, then summary), the slots and the data area from the base. */
static int table_layout(size_t slots, size_t *bitmap_at, size_t *slots_at, size_t *data_start)
{
    size_t bitmap, table, end;
    if (slots == 0 || slots > EMBEDDED_POOL_MAX_SLOTS) return POOL_EINVAL;
    if (size_align_up(sizeof(embedded_pool), _Alignof(uint64_t), bitmap_at) != POOL_OK ||
        size_mul(bitmap_words(slots) + bitmap_words(bitmap_words(slots)), sizeof(uint64_t),
                 &bitmap) != POOL_OK ||
        size_add(*bitmap_at, bitmap, slots_at) != POOL_OK ||
        size_mul(slots + 1, sizeof(emb_slot), &table) != POOL_OK ||
        size_add(*slots_at, table, &end) != POOL_OK)
        return POOL_EOVERFLOW;
    return size_align_up(end, EMBEDDED_POOL_ALIGN, data_start);
}

size_t embedded_pool_table_bytes(size_t slots)
{
    size_t bitmap_at, slots_at, data_start;
    return table_layout(slots, &bitmap_at, &slots_at, &data_start) == POOL_OK ? data_start : 0;
}

static int pool_layout(void *buffer, size_t size, size_t slots, embedded_pool **out)
{
    if (!buffer) return POOL_EINVAL;
    uintptr_t raw = (uintptr_t)buffer;
    uintptr_t base = (raw + (POOL_MAX_ALIGN - 1)) & ~(uintptr_t)(POOL_MAX_ALIGN - 1);
    size_t skip = (size_t)(base - raw), bitmap_at, slots_at, data_start;
    int err = table_layout(slots, &bitmap_at, &slots_at, &data_start);
    if (err != POOL_OK) return err;
    if (skip > size) return POOL_ENOMEM;
    size_t usable = size - skip < EMBEDDED_POOL_MAX_BYTES ? size - skip : EMBEDDED_POOL_MAX_BYTES;
    usable &= ~(size_t)(EMBEDDED_POOL_ALIGN - 1);
    if (data_start >= usable) return POOL_ENOMEM;
    embedded_pool *p = (embedded_pool *)base;
    p->size = usable;
    p->data_start = data_start;
    p->nslots = slots;
    p->free_slots = (uint64_t *)(base + bitmap_at);
    p->free_words = p->free_slots + bitmap_words(slots);
    p->slots = (emb_slot *)(base + slots_at);
    *out = p;
    return POOL_OK;
}

int embedded_pool_create_in(embedded_pool **out, void *buffer, size_t size, size_t slots,
                            unsigned flags)
{
    if (!out) return POOL_EINVAL;
    *out = NULL;
    if (flags & ~(EMB_ZERO_ON_FREE | EMB_FIRST_FIT)) return POOL_EINVAL;
    embedded_pool *p;
    int err = pool_layout(buffer, size, slots, &p);
    if (err != POOL_OK) return err;
    p->flags = flags;
    p->hooks = (emb_hooks){NULL, NULL, NULL};
    p->compactions = p->bytes_moved = p->steps = p->nlive = p->used = 0;
    memset(p->free_slots, 0, (bitmap_words(slots) + bitmap_words(bitmap_words(slots))) * sizeof(uint64_t));
    for (size_t i = 0; i <= slots; i++)
        p->slots[i] = (emb_slot){0, 0, 1, 0, (uint16_t)slots, (uint16_t)slots, NONE, NONE};
    for (size_t i = 0; i < slots; i++) slot_release(p, i);
    p->slots[slots].offset = (uint32_t)p->data_start;
    memset(p->class_head, 0xFF, sizeof p->class_head);
    p->class_map = 0;
    gap_link(p, slots); /* the whole data area: one gap, owned by the sentinel */
    memset(pool_base(p) + p->data_start, 0, p->size - p->data_start);
    *out = p;
    return POOL_OK;
}

int embedded_pool_create_static(embedded_pool **out, size_t slots, unsigned flags)
{
    return embedded_pool_create_in(out, embedded_pool_memory, sizeof embedded_pool_memory, slots,
                                   flags);
}

void embedded_pool_set_hooks(embedded_pool *p, const emb_hooks *hooks)
{
    if (!p) return;
    if (hooks && hooks->enter && hooks->exit) p->hooks = *hooks;
    else p->hooks = (emb_hooks){NULL, NULL, NULL};
}

/* The slot a handle names, or an error: out of range is forged, a wrong generation is stale. */
static int handle_slot(const embedded_pool *p, emb_handle h, size_t *out)
{
    if (h.slot >= p->nslots) return POOL_EFOREIGN;
    const emb_slot *s = &p->slots[h.slot];
    if (s->size == 0 || s->generation != h.generation) return POOL_ESTALE;
    *out = h.slot;
    return POOL_OK;
}

/* The rare path of a search that found no gap: when the free bytes suffice, compaction and
 * an exhaustive walk; NONE otherwise. Out of line, so the common path stays small. */
POOL_COLD static size_t room_by_compaction(embedded_pool *p, size_t extent)
{
    if (p->size - p->data_start - p->used < extent) return NONE;
    pool_compact(p);
    return gap_first_fit(p, extent);
}

/* The owner of a gap for `extent` bytes: the policy's search, then the rare path. */
static int pool_find_room(embedded_pool *p, size_t extent, size_t *at)
{
    *at = gap_find(p, extent);
    if (POOL_UNLIKELY(*at == NONE)) *at = room_by_compaction(p, extent);
    return *at != NONE ? POOL_OK : POOL_ENOMEM;
}

int embedded_pool_alloc(embedded_pool *p, size_t size, emb_handle *out)
{
    if (!p || !out) return POOL_EINVAL;
    section_enter(p);
    p->steps = 0;
    if (POOL_UNLIKELY(size == 0)) return section_exit(p, POOL_EINVAL);
    if (POOL_UNLIKELY(size > p->size - p->data_start || p->nlive == p->nslots))
        return section_exit(p, POOL_ENOMEM);
    size_t at;
    int err = pool_find_room(p, block_extent(size), &at);
    if (POOL_UNLIKELY(err != POOL_OK)) return section_exit(p, err);
    size_t i = slot_take(p);
    emb_slot *s = &p->slots[i];
    s->offset = (uint32_t)slot_end(&p->slots[at]);
    s->size = (uint32_t)size;
    s->lock = 0;
    block_attach(p, at, i);
    p->nlive++;
    *out = (emb_handle){(unsigned)i, s->generation};
    return section_exit(p, POOL_OK);
}

/* Grow block i to `size` by moving its neighbours both ways: the blocks before it toward the
 * start, the blocks after it toward the end, then the block down, so all free bytes sit after
 * it. On ENOMEM the blocks have moved but the block keeps its size and data. */
static int block_grow_two_way(embedded_pool *p, size_t i, size_t size)
{
    emb_slot *s = &p->slots[i];
    size_t old = block_extent(s->size), extent = block_extent(size);
    p->steps += p->nlive;
    compact_down(p, p->slots[p->nslots].next, i, p->data_start);
    compact_up(p, p->slots[p->nslots].prev, i, p->size);
    size_t floor = slot_end(&p->slots[s->prev]), ceiling = slot_next_start(p, i);
    p->compactions++;
    int err = ceiling - floor < extent ? POOL_ENOMEM : POOL_OK;
    if (err == POOL_OK) {
        block_move(p, s, floor);
        p->used = p->used - old + extent;
        s->size = (uint32_t)size;
    }
    index_rebuild(p);
    return err;
}

int embedded_pool_realloc(embedded_pool *p, emb_handle h, size_t size)
{
    if (!p) return POOL_EINVAL;
    section_enter(p);
    p->steps = 0;
    size_t i;
    int err = handle_slot(p, h, &i);
    if (err != POOL_OK) return section_exit(p, err);
    if (size == 0) return section_exit(p, POOL_EINVAL);
    if (size > p->size - p->data_start) return section_exit(p, POOL_ENOMEM);
    emb_slot *s = &p->slots[i];
    size_t extent = block_extent(size), old = block_extent(s->size);
    if (extent <= old + gap_after(p, i)) { /* shrink, or grow into the gap after it */
        gap_unlink(p, i);
        p->used = p->used - old + extent;
        s->size = (uint32_t)size;
        gap_link(p, i);
        return section_exit(p, POOL_OK);
    }
    if (s->lock) return section_exit(p, POOL_ELOCKED);
    if (p->size - p->data_start - p->used + old < extent) return section_exit(p, POOL_ENOMEM);
    /* search with this block's own bytes counted as free: memmove copes with the overlap */
    size_t prev = s->prev;
    block_detach(p, i);
    size_t at = gap_find(p, extent);
    if (at != NONE) {
        block_move(p, s, slot_end(&p->slots[at]));
        s->size = (uint32_t)size;
        block_attach(p, at, i);
        return section_exit(p, POOL_OK);
    }
    block_attach(p, prev, i); /* back where it was, untouched */
    return section_exit(p, block_grow_two_way(p, i, size));
}

int embedded_pool_free(embedded_pool *p, emb_handle h)
{
    if (!p) return POOL_EINVAL;
    section_enter(p);
    p->steps = 1;
    size_t i;
    int err = handle_slot(p, h, &i);
    if (POOL_UNLIKELY(err != POOL_OK)) return section_exit(p, err);
    emb_slot *s = &p->slots[i];
    if (POOL_UNLIKELY(s->lock)) return section_exit(p, POOL_ELOCKED);
    if (p->flags & EMB_ZERO_ON_FREE) memset(pool_base(p) + s->offset, 0, block_extent(s->size));
    block_detach(p, i);
    s->size = 0;
    s->generation = s->generation == EMBEDDED_POOL_MAX_GENERATION ? 1 : s->generation + 1;
    slot_release(p, i);
    p->nlive--;
    return section_exit(p, POOL_OK);
}

int embedded_pool_compact(embedded_pool *p)
{
    if (!p) return POOL_EINVAL;
    section_enter(p);
    p->steps = 0;
    pool_compact(p);
    return section_exit(p, POOL_OK);
}

int embedded_pool_lock(embedded_pool *p, emb_handle h, void **out)
{
    if (!p || !out) return POOL_EINVAL;
    section_enter(p);
    size_t i;
    int err = handle_slot(p, h, &i);
    if (err != POOL_OK) return section_exit(p, err);
    emb_slot *s = &p->slots[i];
    if (s->lock == EMBEDDED_POOL_MAX_LOCKS) return section_exit(p, POOL_EOVERFLOW);
    s->lock++;
    *out = pool_base(p) + s->offset;
    return section_exit(p, POOL_OK);
}

int embedded_pool_unlock(embedded_pool *p, emb_handle h)
{
    if (!p) return POOL_EINVAL;
    section_enter(p);
    size_t i;
    int err = handle_slot(p, h, &i);
    if (err != POOL_OK) return section_exit(p, err);
    emb_slot *s = &p->slots[i];
    if (s->lock == 0) return section_exit(p, POOL_ENOTLOCKED);
    s->lock--;
    return section_exit(p, POOL_OK);
}

int embedded_pool_offset(const embedded_pool *p, emb_handle h, size_t *offset, size_t *size)
{
    if (!p || !offset || !size) return POOL_EINVAL;
    size_t i;
    int err = handle_slot(p, h, &i);
    if (err != POOL_OK) return err;
    *offset = p->slots[i].offset;
    *size = p->slots[i].size;
    return POOL_OK;
}

unsigned char *embedded_pool_base(embedded_pool *p)
{
    return p ? pool_base(p) : NULL;
}

void embedded_pool_stats(const embedded_pool *p, emb_stats *s)
{
    if (!p || !s) return;
    memset(s, 0, sizeof *s);
    s->capacity = p->size - p->data_start;
    s->table_bytes = p->data_start;
    s->used = p->used;
    s->free_bytes = s->capacity - s->used;
    size_t k = p->nslots;
    do {
        if (gap_after(p, k) > s->largest_gap) s->largest_gap = gap_after(p, k);
        k = p->slots[k].next;
    } while (k != p->nslots);
    s->live = p->nlive;
    s->slots = p->nslots;
    s->compactions = p->compactions;
    s->bytes_moved = p->bytes_moved;
    s->last_steps = p->steps;
}

size_t embedded_pool_last_steps(const embedded_pool *p)
{
    return p ? p->steps : 0;
}

void embedded_pool_walk(const embedded_pool *p, pool_walker fn, void *user)
{
    if (!p || !fn) return;
    fn(0, p->data_start, POOL_REGION_TABLE, -1, user);
    size_t cursor = p->data_start;
    for (size_t k = p->slots[p->nslots].next; k != p->nslots; k = p->slots[k].next) {
        const emb_slot *s = &p->slots[k];
        if (s->offset > cursor) fn(cursor, s->offset - cursor, POOL_REGION_FREE, -1, user);
        fn(s->offset, s->size, POOL_REGION_PAYLOAD, (long)k, user);
        if (block_extent(s->size) > s->size)
            fn(s->offset + s->size, block_extent(s->size) - s->size, POOL_REGION_PADDING,
               (long)k, user);
        cursor = slot_end(s);
    }
    if (p->size > cursor) fn(cursor, p->size - cursor, POOL_REGION_FREE, -1, user);
}

/* The address order: sorted, inside the data area, no overlap, links both ways, counts right.
 * Sets *gaps to the number of non-empty gaps. */
static const char *check_order(const embedded_pool *p, size_t *gaps)
{
    size_t cursor = p->data_start, seen = 0, used = 0, k = p->nslots;
    *gaps = 0;
    do {
        size_t n = p->slots[k].next;
        if (n > p->nslots || p->slots[n].prev != k) return "the address order's links disagree";
        if (n != p->nslots) {
            const emb_slot *s = &p->slots[n];
            if (++seen > p->nslots) return "the address order has a cycle";
            if (s->size == 0) return "the address order lists a free slot";
            if (s->offset % EMBEDDED_POOL_ALIGN) return "a block is misaligned";
            if (s->offset < cursor) return "two blocks overlap (or a block overlaps the table)";
            if (s->offset > p->size || block_extent(s->size) > p->size - s->offset)
                return "a block runs past the end of the pool";
            cursor = slot_end(s);
            used += block_extent(s->size);
        }
        *gaps += gap_after(p, k) != 0;
        k = n;
    } while (k != p->nslots);
    if (seen != p->nlive) return "the address order does not list every live block";
    if (used != p->used) return "the used byte count does not match the blocks";
    return NULL;
}

/* Good fit's index: every listed gap is in its class, bitmaps match the lists, none missing. */
static const char *check_index(const embedded_pool *p, size_t gaps)
{
    size_t listed = 0;
    for (unsigned c = 0; c < CLASS_COUNT; c++) {
        size_t prev = NONE;
        uint16_t head = p->class_head[c];
        if (((p->class_map & class_bit(c)) != 0) != (head != NONE))
            return "a class bitmap disagrees with its list";
        for (size_t k = head; k != NONE; k = p->slots[k].gap_next) {
            if (k > p->nslots || ++listed > gaps) return "a class list is corrupt or too long";
            if (p->slots[k].gap_prev != prev) return "a class list's links disagree";
            if (gap_after(p, k) == 0) return "an empty gap is on a class list";
            if (class_of(gap_after(p, k) / EMBEDDED_POOL_ALIGN) != c)
                return "a gap is on the wrong class list";
            prev = k;
        }
    }
    if (p->class_map >> CLASS_COUNT) return "the class bitmap marks a class past the last";
    return listed == gaps ? NULL : "a gap is missing from the class index";
}

const char *embedded_pool_check(const embedded_pool *p)
{
    if (!p) return "pool is NULL";
    if (p->data_start > p->size) return "table runs past the pool";
    size_t gaps, live = 0;
    const char *problem = check_order(p, &gaps);
    if (problem) return problem;
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].generation == 0) return "a slot has generation 0";
        if (p->slots[i].size == 0 && p->slots[i].lock) return "a free slot is locked";
        if (slot_is_free(p, i) != (p->slots[i].size == 0))
            return "the free-slot bitmap disagrees with the table";
        if (((p->free_words[i / 4096] >> (i / 64 % 64)) & 1) != (p->free_slots[i / 64] != 0))
            return "the free-slot summary disagrees with the bitmap";
        live += p->slots[i].size != 0;
    }
    if (live != p->nlive) return "the live count does not match the table";
    return pool_good_fit(p) ? check_index(p, gaps) : NULL;
}
