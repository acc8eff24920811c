# Sourced by scripts/serve and scripts/test: installs the pinned toolchain and dependencies.
# uv comes from PyPI into a private venv when it is not on PATH; dependencies from uv.lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export UV_PYTHON_DOWNLOADS=never   # use the machine's Python 3.11, never fetch one
UV_VERSION=0.13.8
if command -v uv >/dev/null 2>&1 && [ "$(uv --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then
  UV=uv
else
  if [ ! -x .tools/bin/uv ]; then
    python3 -m venv .tools
    .tools/bin/pip install --quiet "uv==$UV_VERSION"
  fi
  UV=.tools/bin/uv
fi
# Bytecode is compiled at install, so no later start (tests, `postgate check`) pays for it: uv
# compiles the dependencies in site-packages; the project is installed editable (its modules stay
# here, outside site-packages), so they are compiled here.
"$UV" sync --locked --quiet --compile-bytecode
"$UV" run --locked --quiet python -m compileall -q bot handlers workflows storage sns
# The checker's rule data (patterns, dictionaries, the sentence, note and person models) is
# compiled into the user's cache here too, so that even the first `postgate check` after an
# install starts fast (two lines: a one-line draft does not load the note model; a name with さん:
# a draft naming no private person does not load the person model).
printf 'みどり市からのお知らせです。\n詳しくは山田花子さんまでお問い合わせください。\n' \
  | "$UV" run --locked --quiet postgate check - --at 2030-01-08T10:00:00+09:00 >/dev/null 2>&1 || true
# The web console's browser tests drive a headless Chromium (Debian's chromium and chromium-driver;
# a Japanese font for the screenshots). Installed only on CI or when asked, as root with apt-get;
# never fails the setup (without it those tests are skipped, with the reason).
if { [ "${CI:-}" = "true" ] || [ "${POSTGATE_INSTALL_BROWSER:-}" = "1" ]; } \
  && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ] \
  && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      chromium chromium-driver fonts-ipafont-gothic; } >/dev/null 2>&1 \
    || echo "postgate setup: could not install chromium; the browser tests will be skipped" >&2
fi
