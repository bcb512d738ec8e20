// Purse's pages work without JavaScript; this only enhances them.
import { initAll } from './build/govuk-frontend.min.js'

initAll()

// The session timeout warning (WCAG 2.2.1): two minutes before the session ends, a dialog offers to keep
// it. Any page load restarts the server's clock (the session is saved on every request), so this one does.
function sessionTimeout () {
  const body = document.body
  const seconds = Number(body.dataset.purseSessionSeconds || 0)
  const dialog = document.getElementById('purse-timeout')
  if (!seconds || !dialog || typeof dialog.showModal !== 'function') return
  const warnBefore = Math.min(120, Math.floor(seconds / 2))
  const countdown = dialog.querySelector('[data-purse-countdown]')
  let warnTimer, endTimer, tick, endsAt

  function words (left) {
    const minutes = Math.floor(left / 60)
    const rest = left % 60
    if (minutes && rest) return `${minutes} minute${minutes === 1 ? '' : 's'} and ${rest} second${rest === 1 ? '' : 's'}`
    if (minutes) return `${minutes} minute${minutes === 1 ? '' : 's'}`
    return `${rest} second${rest === 1 ? '' : 's'}`
  }

  function start () {
    clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tick)
    endsAt = Date.now() + seconds * 1000
    warnTimer = setTimeout(warn, (seconds - warnBefore) * 1000)
    endTimer = setTimeout(() => { window.location.href = body.dataset.purseSignedOutUrl }, seconds * 1000)
  }

  function warn () {
    const update = () => {
      const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000))
      countdown.textContent = words(left)
    }
    update()
    tick = setInterval(update, 1000)
    dialog.showModal()
  }

  dialog.querySelector('[data-purse-stay]').addEventListener('click', async () => {
    const token = dialog.querySelector('input[name=csrfmiddlewaretoken]').value
    const answer = await fetch(body.dataset.purseKeepAliveUrl, {
      method: 'POST', headers: { 'X-CSRFToken': token }, credentials: 'same-origin'
    })
    dialog.close()
    if (answer.ok) start()
    else window.location.href = body.dataset.purseSignedOutUrl
  })
  dialog.addEventListener('cancel', () => { dialog.close() })
  start()
}

// Live results: a form marked data-purse-live sends its fields to data-purse-live-url as they change and
// shows the HTML answer in the element data-purse-live-target names (an aria-live region). Without
// JavaScript the form's own "Work it out" button does the same with a page load.
function liveForms () {
  document.querySelectorAll('form[data-purse-live]').forEach((form) => {
    const target = document.getElementById(form.dataset.purseLiveTarget)
    if (!target) return
    let timer, seq = 0
    const refresh = () => {
      clearTimeout(timer)
      timer = setTimeout(async () => {
        const mine = ++seq
        const answer = await fetch(form.dataset.purseLiveUrl, {
          method: 'POST', body: new FormData(form), credentials: 'same-origin',
          headers: { 'X-Requested-With': 'fetch' }
        })
        if (mine === seq && answer.ok) target.innerHTML = await answer.text()
      }, 400)
    }
    form.addEventListener('input', refresh)
    form.addEventListener('change', refresh)
  })
}

// A statement run's progress: while the run is making statements, its live region (data-purse-poll-url)
// asks the page again every few seconds for the progress only, and shows it if it has changed; it stops
// once the run has finished. Without JavaScript the region's "Check progress again" link does the same.
function pollProgress () {
  const region = document.querySelector('[data-purse-poll-url]')
  if (!region) return
  const seconds = Math.max(2, Number(region.dataset.pursePollSeconds || 5))
  const poll = async () => {
    let answer
    try {
      answer = await fetch(region.dataset.pursePollUrl, {
        credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' }
      })
    } catch (error) {
      setTimeout(poll, seconds * 1000)
      return
    }
    if (!answer.ok) return
    const fresh = document.createElement('div')
    fresh.innerHTML = await answer.text()
    // Only a change is shown, so that a screen reader hears the live region when there is news.
    if (fresh.textContent.trim() !== region.textContent.trim()) region.replaceChildren(...fresh.childNodes)
    if (answer.headers.get('X-Purse-Running') === '1') setTimeout(poll, seconds * 1000)
  }
  setTimeout(poll, seconds * 1000)
}

sessionTimeout()
liveForms()
pollProgress()
