/* dflyctl-cert.c — "dflyctl cert ca|issue|show": the cluster CA and host
 * certificates, made and read here without asking dflyd
 *
 * ca writes DIR/ca.pem and DIR/ca-key.pem; issue writes DIR/ID.pem and
 * DIR/ID-key.pem for host id ID. Keys are mode 0600, and nothing is written
 * over an existing file without --force.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "dfly/dfly-cert.h"
#include "dfly/dfly-error.h"
#include "dflyctl.h"
#include "dflyctl-parse.h"

#define CA_DEFAULT_NAME   "dfly cluster CA"
#define CA_DEFAULT_DAYS   3650
#define HOST_DEFAULT_DAYS 365
#define PEM_FILE_MAX      (256 * 1024) /* far above any certificate or key of ours */
#define DAYS_UNSET        G_MININT

typedef struct {
  char    *out;
  char    *name;
  int      days;
  gboolean force;
  char    *ca;
  char    *host_id;
  char   **roles; /* each may list several, comma-separated */
  char   **ips;
  char   **dns_names;
} CertOptions;

static void
cert_options_clear (CertOptions *options)
{
  g_clear_pointer (&options->out, g_free);
  g_clear_pointer (&options->name, g_free);
  g_clear_pointer (&options->ca, g_free);
  g_clear_pointer (&options->host_id, g_free);
  g_clear_pointer (&options->roles, g_strfreev);
  g_clear_pointer (&options->ips, g_strfreev);
  g_clear_pointer (&options->dns_names, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CertOptions, cert_options_clear)

static gboolean usage_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
usage_error (GError **error, const char *format, ...)
{
  va_list          args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, message);
  return FALSE;
}

/* --days: @fallback when not given. */
static gboolean
resolve_days (const char *subcommand, int days, int fallback, guint *out, GError **error)
{
  if (days == DAYS_UNSET) {
    *out = fallback;
    return TRUE;
  }
  if (days < 1 || days > DFLY_CERT_DAYS_MAX)
    return usage_error (error, _ ("cert %s: --days must be 1 to %d, not %d"), subcommand,
                        DFLY_CERT_DAYS_MAX, days);
  *out = days;
  return TRUE;
}

/* Reads a PEM file of at most PEM_FILE_MAX bytes. */
static char *
read_pem_file (const char *path, GError **error)
{
  g_autofree char *text = g_malloc (PEM_FILE_MAX + 1);
  gsize            length = 0;
  int              fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  int              saved = 0;

  while (fd >= 0 && length <= PEM_FILE_MAX) {
    gssize got = read (fd, text + length, PEM_FILE_MAX + 1 - length);

    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      saved = got < 0 ? errno : 0;
      break;
    }
    length += got;
  }
  if (fd < 0)
    saved = errno;
  else
    close (fd);
  if (saved != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, _ ("cannot read %s: %s"), path,
                 g_strerror (saved));
    return NULL;
  }
  if (length > PEM_FILE_MAX) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 _ ("%s is larger than %d bytes: not a certificate or key"), path, PEM_FILE_MAX);
    return NULL;
  }
  text[length] = '\0';
  if (strlen (text) != length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, _ ("%s is not a PEM file"), path);
    return NULL;
  }
  return g_steal_pointer (&text);
}

/* Makes @dir (0700: it may hold the CA's key) and refuses, unless @force,
 * if any of @names exists in it, before anything is written. Returns the
 * paths of @names in @dir. */
static GStrv
prepare_outputs (const char *dir, const char *const *names, gboolean force, GError **error)
{
  g_autoptr (GStrvBuilder) paths = g_strv_builder_new ();

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int saved = errno;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, _ ("cannot make %s: %s"), dir,
                 g_strerror (saved));
    return NULL;
  }
  for (guint i = 0; names[i] != NULL; i++) {
    g_autofree char *path = g_build_filename (dir, names[i], NULL);

    if (!force && g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED,
                   _ ("%s already exists; --force replaces it"), path);
      return NULL;
    }
    g_strv_builder_add (paths, path);
  }
  return g_strv_builder_end (paths);
}

/* The key first: a certificate without its key is of no use. */
static gboolean
write_pair (const GStrv paths, const char *cert_pem, const char *key_pem, gboolean force,
            GError **error)
{
  if (!dfly_cert_write_pem (paths[1], key_pem, TRUE, force, error))
    return FALSE;
  if (!dfly_cert_write_pem (paths[0], cert_pem, FALSE, force, error)) {
    if (!force)
      g_unlink (paths[1]);
    return FALSE;
  }
  return TRUE;
}

/* Keys in memory are wiped before they are freed. */
static void
free_secret (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret)); /* memset before free may be dropped */
  g_free (secret);
}

typedef char Secret;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Secret, free_secret)

static gboolean
cert_ca (Dflyctl *ctl, CertOptions *options, char **args, GError **error)
{
  const char *names[] = { "ca.pem", "ca-key.pem", NULL };
  g_auto (GStrv) paths = NULL;
  g_autofree char *cert_pem = NULL;
  g_autoptr (Secret) key_pem = NULL;
  guint days = 0;

  if (options->out == NULL)
    return usage_error (error, _ ("cert ca: --out DIR is required"));
  if (!resolve_days ("ca", options->days, CA_DEFAULT_DAYS, &days, error))
    return FALSE;
  /* Made before anything is written, so a bad --name leaves no directory. */
  if (!dfly_cert_make_ca (options->name != NULL ? options->name : CA_DEFAULT_NAME, days, &cert_pem,
                          &key_pem, error) ||
      (paths = prepare_outputs (options->out, names, options->force, error)) == NULL ||
      !write_pair (paths, cert_pem, key_pem, options->force, error)) {
    g_prefix_error (error, "cert ca: ");
    return FALSE;
  }
  g_print (_ ("wrote %s and %s (the CA's key: keep it off the hosts)\n"), paths[0], paths[1]);
  return TRUE;
}

/* The default validity of a host: a year, or less when the CA ends sooner. */
static guint
host_days_within (const char *ca_cert)
{
  g_autoptr (DflyCertInfo) info = dfly_cert_info_from_pem (ca_cert, strlen (ca_cert), NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  GTimeSpan left;

  if (info == NULL || info->not_after == NULL)
    return HOST_DEFAULT_DAYS; /* dfly_cert_issue says what is wrong */
  left = g_date_time_difference (info->not_after, now) / G_TIME_SPAN_DAY;
  return CLAMP (left, 1, HOST_DEFAULT_DAYS);
}

/* --role peer,seed --role scheduler: the union. */
static gboolean
parse_roles (char **values, DflyRoleFlags *roles, GError **error)
{
  *roles = 0;
  for (guint i = 0; values != NULL && values[i] != NULL; i++) {
    g_auto (GStrv) names = g_strsplit (values[i], ",", -1);

    for (guint j = 0; names[j] != NULL; j++) {
      DflyRoleFlags    flag;
      g_autofree char *name = g_strstrip (g_strdup (names[j]));

      if (!dfly_role_flag_from_string (name, &flag)) {
        g_autofree char *quoted = dflyctl_quote_arg (name);

        return usage_error (error,
                            _ ("cert issue: unknown role “%s”; use peer, seed, scheduler or "
                               "manager"),
                            quoted);
      }
      *roles |= flag;
    }
  }
  if (*roles == 0)
    return usage_error (error, _ ("cert issue: --role is required (peer, seed, scheduler, "
                                  "manager; several separated by commas)"));
  return TRUE;
}

static gboolean
cert_issue (Dflyctl *ctl, CertOptions *options, char **args, GError **error)
{
  g_autofree char *cert_name = NULL;
  g_autofree char *key_name = NULL;
  g_autofree char *ca_cert_path = NULL;
  g_autofree char *ca_key_path = NULL;
  g_autofree char *ca_cert = NULL;
  g_autoptr (Secret) ca_key = NULL;
  g_autofree char *cert_pem = NULL;
  g_autoptr (Secret) key_pem = NULL;
  g_auto (GStrv) paths = NULL;
  DflyCertRequest request = { 0 };

  if (options->ca == NULL)
    return usage_error (error, _ ("cert issue: --ca DIR (holding ca.pem and ca-key.pem) is "
                                  "required"));
  if (options->host_id == NULL)
    return usage_error (error, _ ("cert issue: --host-id ID is required"));
  if (options->out == NULL)
    return usage_error (error, _ ("cert issue: --out DIR is required"));
  /* Before the CA is read: the id is also a file name. */
  if (!dfly_cert_check_host_id (options->host_id, strlen (options->host_id), error)) {
    g_prefix_error (error, "cert issue: --host-id: ");
    return FALSE;
  }
  if (!parse_roles (options->roles, &request.roles, error))
    return FALSE;
  request.host_id = options->host_id;
  request.ips = (const char **) options->ips;
  request.dns_names = (const char **) options->dns_names;

  ca_cert_path = g_build_filename (options->ca, "ca.pem", NULL);
  ca_key_path = g_build_filename (options->ca, "ca-key.pem", NULL);
  cert_name = g_strconcat (options->host_id, ".pem", NULL);
  key_name = g_strconcat (options->host_id, "-key.pem", NULL);
  ca_cert = read_pem_file (ca_cert_path, error);
  ca_key = ca_cert != NULL ? read_pem_file (ca_key_path, error) : NULL;
  if (ca_key == NULL) {
    g_prefix_error (error, "cert issue: ");
    return FALSE;
  }
  if (!resolve_days ("issue", options->days, host_days_within (ca_cert), &request.days, error))
    return FALSE;
  if (!dfly_cert_issue (ca_cert, ca_key, &request, &cert_pem, &key_pem, error) ||
      (paths = prepare_outputs (options->out, (const char *[]){ cert_name, key_name, NULL },
                                options->force, error)) == NULL ||
      !write_pair (paths, cert_pem, key_pem, options->force, error)) {
    g_prefix_error (error, "cert issue: ");
    return FALSE;
  }
  g_print (_ ("wrote %s and %s\n"), paths[0], paths[1]);
  return TRUE;
}

static GVariant *
strv_variant (GStrv strv)
{
  return g_variant_new_strv ((const char *const *) strv, -1);
}

static gboolean
cert_show (Dflyctl *ctl, CertOptions *options, char **args, GError **error)
{
  const char      *path = args[0];
  g_autofree char *pem = read_pem_file (path, error);
  g_autoptr (DflyCertInfo) info = NULL;
  g_autoptr (GStrvBuilder) roles = g_strv_builder_new ();
  g_auto (GStrv) role_names = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *not_before = NULL;
  g_autofree char *not_after = NULL;
  GVariantDict     dict;

  if (pem == NULL) {
    g_prefix_error (error, "cert show: ");
    return FALSE;
  }
  info = dfly_cert_info_from_pem (pem, strlen (pem), error);
  if (info == NULL) {
    g_prefix_error (error, "cert show: %s: ", path);
    return FALSE;
  }
  for (DflyRoleFlags flag = 1; flag <= DFLY_ROLE_FLAG_MANAGER; flag <<= 1) {
    if (info->roles & flag)
      g_strv_builder_add (roles, dfly_role_flag_to_string (flag));
  }
  role_names = g_strv_builder_end (roles);
  not_before = info->not_before != NULL ? g_date_time_format_iso8601 (info->not_before) : NULL;
  not_after = info->not_after != NULL ? g_date_time_format_iso8601 (info->not_after) : NULL;

  g_variant_dict_init (&dict, NULL);
  if (info->host_id != NULL)
    g_variant_dict_insert (&dict, "host-id", "s", info->host_id);
  g_variant_dict_insert_value (&dict, "roles", strv_variant (role_names));
  g_variant_dict_insert (&dict, "subject", "s", info->subject);
  g_variant_dict_insert (&dict, "issuer", "s", info->issuer);
  g_variant_dict_insert (&dict, "serial", "s", info->serial);
  g_variant_dict_insert (&dict, "ca", "b", info->is_ca);
  if (not_before != NULL)
    g_variant_dict_insert (&dict, "not-before", "s", not_before);
  if (not_after != NULL) {
    g_variant_dict_insert (&dict, "not-after", "s", not_after);
    g_variant_dict_insert (&dict, "expired", "b", g_date_time_compare (now, info->not_after) > 0);
  }
  g_variant_dict_insert_value (&dict, "ips", strv_variant (info->ips));
  g_variant_dict_insert_value (&dict, "dns-names", strv_variant (info->dns_names));
  {
    g_autoptr (GVariant) cert = g_variant_ref_sink (g_variant_dict_end (&dict));

    dflyctl_print (ctl, dflyctl_output_cert (ctl->format, cert));
  }
  return TRUE;
}

typedef struct {
  const char *name;
  const char *usage;   /* N_() */
  const char *options; /* the long options it takes, each between blanks */
  guint       n_args;  /* positional arguments after its name */
  gboolean (*run) (Dflyctl *ctl, CertOptions *options, char **args, GError **error);
} CertSubcommand;

static const CertSubcommand cert_subcommands[] = {
  { "ca", N_ ("ca --out DIR [--name NAME] [--days N] [--force]"), " out name days force ", 0,
    cert_ca },
  { "issue",
    N_ ("issue --ca DIR --host-id ID --role ROLE[,ROLE…] [--ip A]… [--dns NAME]… [--days N] "
        "--out DIR [--force]"),
    " ca host-id role ip dns out days force ", 0, cert_issue },
  { "show", N_ ("show FILE"), " ", 1, cert_show },
};

static const char cert_description[] =
  N_ ("Subcommands:\n"
      "  ca --out DIR [--name NAME] [--days N]\n"
      "      Make a cluster CA (ECDSA P-256), valid 3650 days by default:\n"
      "      DIR/ca.pem and DIR/ca-key.pem\n"
      "  issue --ca DIR --host-id ID --role ROLE[,ROLE…] [--ip A]… [--dns NAME]…\n"
      "        [--days N] --out DIR\n"
      "      Issue a certificate for host ID granting the roles (peer, seed,\n"
      "      scheduler, manager), signed by the CA in --ca, valid 365 days by\n"
      "      default (or until the CA expires, if sooner): DIR/ID.pem and\n"
      "      DIR/ID-key.pem\n"
      "  show FILE\n"
      "      Show a certificate's host id, roles, issuer and validity\n\n"
      "No dflyd is needed. Keys are written mode 0600; an existing file is kept\n"
      "unless --force is given.");

/* The first option given that @subcommand does not take, or NULL. */
static const char *
foreign_option (const CertSubcommand *subcommand, const CertOptions *options)
{
  const struct {
    const char *name;
    gboolean    given;
  } given[] = {
    { "out", options->out != NULL },         { "name", options->name != NULL },
    { "days", options->days != DAYS_UNSET }, { "force", options->force },
    { "ca", options->ca != NULL },           { "host-id", options->host_id != NULL },
    { "role", options->roles != NULL },      { "ip", options->ips != NULL },
    { "dns", options->dns_names != NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (given); i++) {
    g_autofree char *blanked = g_strdup_printf (" %s ", given[i].name);

    if (given[i].given && strstr (subcommand->options, blanked) == NULL)
      return given[i].name;
  }
  return NULL;
}

gboolean
dflyctl_cmd_cert (Dflyctl *ctl, GError **error)
{
  g_auto (CertOptions) options = { .days = DAYS_UNSET };
  const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &options.out,
      N_ ("ca, issue: write the files into DIR (made if missing)"), N_ ("DIR") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &options.name,
      N_ ("ca: the CA's common name (default “" CA_DEFAULT_NAME "”)"), N_ ("NAME") },
    { "days", 0, 0, G_OPTION_ARG_INT, &options.days,
      N_ ("ca, issue: days of validity (the defaults are below)"), N_ ("N") },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &options.force, N_ ("ca, issue: replace existing files"),
      NULL },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &options.ca,
      N_ ("issue: the directory holding ca.pem and ca-key.pem"), N_ ("DIR") },
    { "host-id", 0, 0, G_OPTION_ARG_STRING, &options.host_id,
      N_ ("issue: the host id, the certificate's common name"), N_ ("ID") },
    { "role", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &options.roles,
      N_ ("issue: roles granted, comma-separated: peer, seed, scheduler, manager"),
      N_ ("ROLE[,ROLE…]") },
    { "ip", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.ips,
      N_ ("issue: an IP address of the host (repeatable)"), N_ ("ADDRESS") },
    { "dns", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.dns_names,
      N_ ("issue: a DNS name of the host (repeatable)"), N_ ("NAME") },
    { NULL }
  };
  g_auto (GStrv) positional = NULL;
  const CertSubcommand *subcommand = NULL;
  const char           *foreign;
  guint                 n_args;

  positional = dflyctl_parse_command_args (
    ctl, entries, _ ("ca|issue|show …"),
    _ ("Make the cluster CA and host certificates, or show a certificate."), _ (cert_description),
    error);
  if (positional == NULL)
    return FALSE;
  if (positional[0] == NULL)
    return usage_error (error, _ ("cert: no subcommand given; use ca, issue or show"));
  for (guint i = 0; i < G_N_ELEMENTS (cert_subcommands); i++) {
    if (g_str_equal (positional[0], cert_subcommands[i].name))
      subcommand = &cert_subcommands[i];
  }
  if (subcommand == NULL) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[0]);

    return usage_error (error, _ ("cert: unknown subcommand “%s”; use ca, issue or show"), quoted);
  }
  foreign = foreign_option (subcommand, &options);
  if (foreign != NULL)
    return usage_error (error, _ ("cert %s: --%s does not apply; usage: dflyctl cert %s"),
                        subcommand->name, foreign, _ (subcommand->usage));
  n_args = g_strv_length (positional) - 1;
  if (n_args < subcommand->n_args)
    return usage_error (error, _ ("cert %s: no file given; usage: dflyctl cert %s"),
                        subcommand->name, _ (subcommand->usage));
  if (n_args > subcommand->n_args) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[subcommand->n_args + 1]);

    return usage_error (error, _ ("cert %s: unexpected argument “%s”; usage: dflyctl cert %s"),
                        subcommand->name, quoted, _ (subcommand->usage));
  }
  return subcommand->run (ctl, &options, positional + 1, error);
}
