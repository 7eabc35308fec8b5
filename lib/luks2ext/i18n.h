// Translation markers for library messages. The library translates with its own text domain,
// as libcryptsetup does, so messages reach the CLI ready to print.
#pragma once

#include <libintl.h>

#ifndef _
#define _(msgid) dgettext("zcryptsetup", msgid)
#endif
#ifndef N_
#define N_(msgid) msgid
#endif
