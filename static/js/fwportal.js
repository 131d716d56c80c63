/* fwportal front end: small progressive enhancements, no framework.
 * Loaded with `defer` on every page. Everything is wired through data
 * attributes and event delegation (no inline handlers: the CSP forbids them).
 */
(function () {
  'use strict';

  var doc = document;
  var root = doc.documentElement;
  root.classList.add('js');

  var MD5_CHUNK = 2 * 1024 * 1024; // bytes read per step when hashing MD5
  var FEEDBACK_MS = 2000;

  /* ---- Screen reader announcements -------------------------------- */

  var liveRegion = null;
  function announce(text) {
    if (!liveRegion) {
      liveRegion = doc.createElement('div');
      liveRegion.className = 'visually-hidden';
      liveRegion.setAttribute('role', 'status');
      liveRegion.setAttribute('aria-live', 'polite');
      liveRegion.setAttribute('data-live-region', '');
      doc.body.appendChild(liveRegion);
    }
    // Clear first so the same message twice in a row is announced again.
    liveRegion.textContent = '';
    window.setTimeout(function () { liveRegion.textContent = text; }, 50);
  }

  /* ---- select[data-autosubmit] ------------------------------------ */

  function autosubmit(select) {
    var form = select.form;
    if (!form) return;
    if (typeof form.requestSubmit === 'function') form.requestSubmit();
    else form.submit();
  }

  /* ---- button[data-copy] ------------------------------------------ */

  function copyWithTextarea(text) {
    var area = doc.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    doc.body.appendChild(area);
    var previousFocus = doc.activeElement;
    area.select();
    var ok = false;
    try {
      ok = doc.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    doc.body.removeChild(area);
    if (previousFocus && previousFocus.focus) previousFocus.focus();
    return ok;
  }

  function copyText(text) {
    // The async clipboard API only exists in secure contexts (https,
    // localhost); intranet deployments on plain http need the fallback.
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithTextarea(text);
      }).then(function (result) { return result !== false; });
    }
    return Promise.resolve(copyWithTextarea(text));
  }

  function showCopyFeedback(button, ok) {
    if (!button.hasAttribute('data-original-text')) {
      button.setAttribute('data-original-text', button.textContent);
    }
    var original = button.getAttribute('data-original-text');
    var text = ok
      ? (button.getAttribute('data-copied-text') || '✓')
      : (button.getAttribute('data-copy-failed-text') || '✗');
    button.textContent = text;
    button.classList.toggle('is-copied', ok);
    button.classList.toggle('is-copy-failed', !ok);
    // "✓" alone means nothing to a screen reader: announce something longer.
    announce(ok
      ? (button.getAttribute('data-copied-text') || 'Copied')
      : (button.getAttribute('data-copy-failed-text') || 'Copy failed'));

    window.clearTimeout(button._fwCopyTimer);
    button._fwCopyTimer = window.setTimeout(function () {
      button.textContent = original;
      button.removeAttribute('data-original-text');
      button.classList.remove('is-copied', 'is-copy-failed');
    }, FEEDBACK_MS);
  }

  function copyFromButton(button) {
    var text = button.hasAttribute('data-copy-link') ? pageLink() : copiedElementText(button);
    if (text === null) {
      showCopyFeedback(button, false);
      return;
    }
    copyText(text).then(function (ok) {
      showCopyFeedback(button, ok);
    });
  }

  function copiedElementText(button) {
    var target = null;
    try {
      target = doc.querySelector(button.getAttribute('data-copy'));
    } catch (e) {
      target = null; // invalid selector
    }
    return target ? target.textContent.trim() : null;
  }

  /* ---- button[data-copy-link]: the page's own link ---------------- */

  // The page's address without its query string or fragment: what a bookmark should keep.
  function pageLink() {
    return window.location.origin + window.location.pathname;
  }

  /* ---- The browser's time zone, for the server to show times in ---- */
  /* The server renders every time (firmware/time_zones.py); this tells it the browser's zone,
   * unless the viewer picked one. Cookie names as in time_zones.py. */

  var CHOSEN_ZONE_COOKIE = 'fwportal_time_zone';
  var BROWSER_ZONE_COOKIE = 'fwportal_browser_time_zone';
  var ZONE_NAME = /^[A-Za-z0-9_+\-\/]{1,64}$/;

  function readCookie(name) {
    var pairs = doc.cookie ? doc.cookie.split('; ') : [];
    for (var i = 0; i < pairs.length; i++) {
      var at = pairs[i].indexOf('=');
      if (pairs[i].slice(0, at) === name) return pairs[i].slice(at + 1);
    }
    return null;
  }

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch (e) {
      return '';
    }
  }

  function rememberBrowserZone() {
    var zone = browserZone();
    if (!ZONE_NAME.test(zone) || readCookie(CHOSEN_ZONE_COOKIE) !== null) return;
    if (readCookie(BROWSER_ZONE_COOKIE) === zone) return;
    doc.cookie = BROWSER_ZONE_COOKIE + '=' + zone + '; path=/; max-age=31536000; samesite=lax' +
      (window.location.protocol === 'https:' ? '; secure' : '');
    // Times on this page were rendered in another zone: load it again, once, to show them in
    // the browser's (the cookie now matches, so the next load does not come back here).
    var elsewhere = doc.querySelector('time[data-zone]:not([data-zone="' + zone + '"])');
    if (elsewhere && readCookie(BROWSER_ZONE_COOKIE) === zone) window.location.reload();
  }

  /* ---- [data-checksum] local file check --------------------------- */

  function readArrayBuffer(blob) {
    if (typeof blob.arrayBuffer === 'function') return blob.arrayBuffer();
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(blob);
    });
  }

  function toHex(buffer) {
    var bytes = new Uint8Array(buffer);
    var hex = '';
    for (var i = 0; i < bytes.length; i++) {
      hex += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    }
    return hex;
  }

  async function md5Hex(file) {
    var Spark = window.SparkMD5;
    if (!Spark || typeof Spark.ArrayBuffer !== 'function') {
      throw new Error('SparkMD5 is not loaded');
    }
    // Incremental: never hold more than one chunk of a large file in memory.
    var spark = new Spark.ArrayBuffer();
    for (var offset = 0; offset < file.size; offset += MD5_CHUNK) {
      spark.append(await readArrayBuffer(file.slice(offset, offset + MD5_CHUNK)));
    }
    return spark.end();
  }

  async function sha256Hex(file) {
    var subtle = window.crypto && window.crypto.subtle;
    if (!subtle) throw new Error('Web Crypto is unavailable (insecure context?)');
    // Web Crypto has no incremental digest, so the whole file is read once.
    return toHex(await subtle.digest('SHA-256', await readArrayBuffer(file)));
  }

  var RESULT_CLASSES = ['is-working', 'is-match', 'is-mismatch', 'is-error'];

  function setChecksumState(box, state, actual, text) {
    var result = box.querySelector('[data-checksum-result]');
    var actualEl = box.querySelector('[data-checksum-actual]');
    if (state) box.setAttribute('data-state', state);
    else box.removeAttribute('data-state');
    if (actualEl) actualEl.textContent = actual || '';
    if (!result) return;
    result.classList.remove.apply(result.classList, RESULT_CLASSES);
    if (state) {
      result.classList.add('is-' + state);
      result.textContent = text || result.getAttribute('data-text-' + state) || '';
    } else {
      result.textContent = '';
    }
  }

  async function checkFile(input) {
    var box = input.closest('[data-checksum]');
    if (!box) return;
    var file = input.files && input.files[0];
    // A newer selection supersedes a computation still in progress.
    var run = (box._fwChecksumRun || 0) + 1;
    box._fwChecksumRun = run;
    if (!file) {
      setChecksumState(box, null);
      return;
    }
    if (sizeDiffers(box, file)) return;
    setChecksumState(box, 'working');
    var method = (box.getAttribute('data-method') || '').toLowerCase();
    var expected = (box.getAttribute('data-expected') || '').trim().toLowerCase();
    var actual;
    try {
      if (method === 'md5') actual = await md5Hex(file);
      else if (method === 'sha256') actual = await sha256Hex(file);
      else throw new Error('Unsupported checksum method: ' + method);
    } catch (e) {
      if (box._fwChecksumRun !== run) return;
      if (window.console) console.error('fwportal checksum:', e);
      setChecksumState(box, 'error');
      return;
    }
    if (box._fwChecksumRun !== run) return;
    setChecksumState(box, actual === expected ? 'match' : 'mismatch', actual);
  }

  /* ---- [data-checksum][data-size]: a file of another size ---------- */

  function formatBytes(count) {
    try {
      return new Intl.NumberFormat(root.lang || undefined,
        { style: 'unit', unit: 'byte', unitDisplay: 'long' }).format(count);
    } catch (e) {
      return count + ' B'; // no Intl unit formatting in this browser
    }
  }

  // A file of another size cannot be the firmware: said at once, without reading the file.
  function sizeDiffers(box, file) {
    var size = box.getAttribute('data-size');
    if (size === null || size === '' || file.size === Number(size)) return false;
    var result = box.querySelector('[data-checksum-result]');
    var wording = (result && result.getAttribute('data-text-size-mismatch')) || '';
    setChecksumState(box, 'mismatch', '', wording
      .replace('{file}', formatBytes(file.size))
      .replace('{firmware}', formatBytes(Number(size))));
    return true;
  }

  /* ---- Wiring ------------------------------------------------------ */

  doc.addEventListener('change', function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.matches('select[data-autosubmit]')) autosubmit(target);
    else if (target.matches('input[data-checksum-file]')) checkFile(target);
  });

  doc.addEventListener('click', function (event) {
    var target = event.target;
    var button = target instanceof Element
      ? target.closest('button[data-copy], button[data-copy-link]')
      : null;
    if (button && !button.disabled) {
      event.preventDefault();
      copyFromButton(button);
    }
  });

  function init() {
    rememberBrowserZone();
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init);
  else init();
}());
