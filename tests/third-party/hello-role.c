/* hello-role.c — a third-party role plugin, built outside the dfly tree
 *
 * It proves that `pkg-config dfly-plugin-1` is all a plugin author needs:
 * the installed headers, libdfly-1 and the linker version script. The role
 * does nothing but log that it started and describe itself.
 */
#define G_LOG_DOMAIN "hello"

#include <dfly/dfly.h>

#define HELLO_DESCRIPTION "says hello from outside the tree"

G_DECLARE_FINAL_TYPE (HelloRole, hello_role, HELLO, ROLE, DflyRole)

struct _HelloRole {
  DflyRole parent_instance;
};

G_DEFINE_FINAL_TYPE (HelloRole, hello_role, DFLY_TYPE_ROLE)

static gboolean
hello_role_start (DflyRole *role, GError **error)
{
  g_info ("hello role started");
  return TRUE;
}

static char *
hello_role_describe (DflyRole *role)
{
  return g_strdup (HELLO_DESCRIPTION);
}

static void
hello_role_class_init (HelloRoleClass *klass)
{
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  role_class->start = hello_role_start;
  role_class->describe = hello_role_describe;
}

static void
hello_role_init (HelloRole *self)
{
}

DFLY_PLUGIN_DEFINE ("hello", DFLY_PLUGIN_KIND_ROLE, "1.0.0", "MIT", "A third-party example role",
                    hello_role_get_type)
