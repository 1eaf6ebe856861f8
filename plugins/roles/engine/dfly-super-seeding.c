/* dfly-super-seeding.c — DflySuperSeeding (see the header)
 *
 * What the benchmark taught: told all at once, children raced for each new
 * piece, and the winners (one child took 195 of 256 pieces) had to send
 * each on to every other child long after the seed was done. By turns each
 * child gets its share. A longer window than half a second stalled children
 * whose parents did not include the child that got the piece.
 */
#include "config.h"

#include "dfly-super-seeding.h"

#define REVEAL_AFTER_US (500 * 1000) /* the other children hear of a piece then */
#define FIRST_SERVE_US  (500 * 1000) /* a range asked again this soon is deferred */
#define SERVED_KEEP     4096         /* ranges remembered at most; the oldest go first */
#define SOURCE_KEEP     1024         /* source tasks remembered at most; the oldest go first */

struct _DflySuperSeeding {
  DflyUploadPolicy parent_instance;
  guint            turn;   /* main thread: the child told of the next piece */
  GMutex           lock;   /* the piece sender's threads admit ranges */
  GHashTable      *served; /* "task/start-end" of each in sent, to look up */
  GQueue           sent;   /* Served, oldest first */
  gboolean         source_tasks_only;
  GHashTable      *source_tasks; /* task ids of source_order, to look up */
  GQueue           source_order; /* the task ids, oldest first */
};

typedef struct {
  char  *key;
  gint64 at; /* monotonic µs */
} Served;

G_DEFINE_FINAL_TYPE (DflySuperSeeding, dfly_super_seeding, DFLY_TYPE_UPLOAD_POLICY)

static void
served_free (Served *served)
{
  g_free (served->key);
  g_free (served);
}

/* With the lock held: the oldest range forgotten. */
static void
forget_oldest (DflySuperSeeding *self)
{
  Served *served = g_queue_pop_head (&self->sent);

  g_hash_table_remove (self->served, served->key);
  served_free (served);
}

/* Whether task_id is super-seeded (with the lock held); a piece with no
 * parent (from the source) makes it one. */
static gboolean
is_shared_once (DflySuperSeeding *self, const char *task_id, gboolean from_source)
{
  char *id;

  if (!self->source_tasks_only || g_hash_table_contains (self->source_tasks, task_id))
    return TRUE;
  if (!from_source)
    return FALSE;
  if (self->source_order.length >= SOURCE_KEEP) {
    id = g_queue_pop_head (&self->source_order);
    g_hash_table_remove (self->source_tasks, id);
    g_free (id);
  }
  id = g_strdup (task_id);
  g_queue_push_tail (&self->source_order, id);
  g_hash_table_add (self->source_tasks, id);
  return TRUE;
}

static GPtrArray *
dfly_super_seeding_announce (DflyUploadPolicy *policy, const DflyPieceInfo *piece,
                             GPtrArray *streams, gint64 *reveal_after)
{
  DflySuperSeeding *self = DFLY_SUPER_SEEDING (policy);
  GPtrArray        *now;
  gboolean          shared_once;

  g_mutex_lock (&self->lock);
  shared_once = is_shared_once (self, piece->task_id, piece->parent_id == NULL);
  g_mutex_unlock (&self->lock);
  if (!shared_once)
    return DFLY_UPLOAD_POLICY_CLASS (dfly_super_seeding_parent_class)
      ->announce (policy, piece, streams, reveal_after);
  now = g_ptr_array_new ();
  g_ptr_array_add (now, g_ptr_array_index (streams, self->turn++ % streams->len));
  *reveal_after = REVEAL_AFTER_US;
  return now;
}

static gboolean
dfly_super_seeding_admit (DflyUploadPolicy *policy, const char *task_id, goffset start, goffset end)
{
  DflySuperSeeding *self = DFLY_SUPER_SEEDING (policy);
  g_autofree char  *key =
    g_strdup_printf ("%s/%" G_GOFFSET_FORMAT "-%" G_GOFFSET_FORMAT, task_id, start, end);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  gint64  now = g_get_monotonic_time ();
  Served *served;

  if (!is_shared_once (self, task_id, FALSE))
    return TRUE;
  /* Sent in time order: what has left the window is at the head. */
  while ((served = g_queue_peek_head (&self->sent)) != NULL && now - served->at >= FIRST_SERVE_US)
    forget_oldest (self);
  if (g_hash_table_contains (self->served, key))
    return FALSE;
  /* A flood of distinct ranges costs a repeat copy, never unbounded memory. */
  if (self->sent.length >= SERVED_KEEP)
    forget_oldest (self);
  served = g_new0 (Served, 1);
  served->key = g_steal_pointer (&key);
  served->at = now;
  g_queue_push_tail (&self->sent, served);
  g_hash_table_add (self->served, served->key);
  return TRUE;
}

/* A range that was not sent after all must not be refused to the next
 * child as if someone held it. */
static void
dfly_super_seeding_withdraw (DflyUploadPolicy *policy, const char *task_id, goffset start,
                             goffset end)
{
  DflySuperSeeding *self = DFLY_SUPER_SEEDING (policy);
  g_autofree char  *key =
    g_strdup_printf ("%s/%" G_GOFFSET_FORMAT "-%" G_GOFFSET_FORMAT, task_id, start, end);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  for (GList *link = self->sent.head; link != NULL; link = link->next) {
    Served *served = link->data;

    if (g_str_equal (served->key, key)) {
      g_hash_table_remove (self->served, served->key);
      g_queue_delete_link (&self->sent, link);
      served_free (served);
      return;
    }
  }
}

guint
dfly_super_seeding_get_remembered (DflySuperSeeding *self)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->sent.length;
}

guint
dfly_super_seeding_get_source_tasks (DflySuperSeeding *self)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->source_order.length;
}

static void
dfly_super_seeding_finalize (GObject *object)
{
  DflySuperSeeding *self = DFLY_SUPER_SEEDING (object);

  g_hash_table_unref (self->served);
  g_queue_clear_full (&self->sent, (GDestroyNotify) served_free);
  g_hash_table_unref (self->source_tasks);
  g_queue_clear_full (&self->source_order, g_free);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (dfly_super_seeding_parent_class)->finalize (object);
}

static void
dfly_super_seeding_init (DflySuperSeeding *self)
{
  g_mutex_init (&self->lock);
  /* Keys belong to the Served records. */
  self->served = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->sent);
  self->source_tasks = g_hash_table_new (g_str_hash, g_str_equal); /* keys: source_order's */
  g_queue_init (&self->source_order);
}

static void
dfly_super_seeding_class_init (DflySuperSeedingClass *klass)
{
  DflyUploadPolicyClass *policy_class = DFLY_UPLOAD_POLICY_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_super_seeding_finalize;
  policy_class->announce = dfly_super_seeding_announce;
  policy_class->admit = dfly_super_seeding_admit;
  policy_class->withdraw = dfly_super_seeding_withdraw;
}

DflyUploadPolicy *
dfly_super_seeding_new (void)
{
  return g_object_new (DFLY_TYPE_SUPER_SEEDING, NULL);
}

DflyUploadPolicy *
dfly_super_seeding_new_for_source_tasks (void)
{
  DflySuperSeeding *self = g_object_new (DFLY_TYPE_SUPER_SEEDING, NULL);

  self->source_tasks_only = TRUE;
  return DFLY_UPLOAD_POLICY (self);
}
