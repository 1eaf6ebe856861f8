/* dfly-held-boards.c — DflyHeldBoards (see the header) */
#include "config.h"

#include "dfly-held-boards.h"

typedef struct {
  char           *task_id;
  DflyPieceBoard *board;
  gint64          expires; /* monotonic µs */
  GList           link;    /* in order of arrival, oldest at the head */
} Held;

struct _DflyHeldBoards {
  GHashTable *by_task; /* task id → Held * (owned) */
  GQueue      order;
};

static void
held_free (Held *held)
{
  g_free (held->task_id);
  dfly_piece_board_unref (held->board);
  g_free (held);
}

DflyHeldBoards *
dfly_held_boards_new (void)
{
  DflyHeldBoards *self = g_new0 (DflyHeldBoards, 1);

  self->by_task = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->order);
  return self;
}

static void
drop (DflyHeldBoards *self, Held *held)
{
  g_queue_unlink (&self->order, &held->link);
  g_hash_table_remove (self->by_task, held->task_id);
  held_free (held);
}

void
dfly_held_boards_free (DflyHeldBoards *self)
{
  if (self == NULL)
    return;
  while (self->order.head != NULL)
    drop (self, self->order.head->data);
  g_hash_table_unref (self->by_task);
  g_free (self);
}

void
dfly_held_boards_put (DflyHeldBoards *self, const char *task_id, DflyPieceBoard *board)
{
  Held *held = g_hash_table_lookup (self->by_task, task_id);

  if (held != NULL)
    drop (self, held);
  while (g_hash_table_size (self->by_task) >= DFLY_HELD_BOARDS_MAX)
    drop (self, self->order.head->data);
  held = g_new0 (Held, 1);
  held->task_id = g_strdup (task_id);
  held->board = dfly_piece_board_ref (board);
  held->expires = g_get_monotonic_time () + (gint64) DFLY_HELD_BOARDS_TTL * G_USEC_PER_SEC;
  held->link.data = held;
  g_queue_push_tail_link (&self->order, &held->link);
  g_hash_table_insert (self->by_task, held->task_id, held);
}

DflyPieceBoard *
dfly_held_boards_lookup (DflyHeldBoards *self, const char *task_id)
{
  Held *held = g_hash_table_lookup (self->by_task, task_id);

  if (held == NULL)
    return NULL;
  if (g_get_monotonic_time () >= held->expires) {
    drop (self, held);
    return NULL;
  }
  return dfly_piece_board_ref (held->board);
}

void
dfly_held_boards_forget (DflyHeldBoards *self, const char *task_id)
{
  Held *held = g_hash_table_lookup (self->by_task, task_id);

  if (held != NULL)
    drop (self, held);
}
