"use strict";
/* Draws one card with the official renderer and reports what a test must check: the renderer's own complaints
   (parse events for Teams' card version 1.5, then validateProperties), the text a person can read, the buttons and
   tappable elements, text that does not fit its box, and images that did not load. */
window.renderCard = async (payload, hostConfig, width) => {
  const message = document.getElementById("message");
  const host = document.getElementById("card");
  message.style.width = `${width}px`;
  host.replaceChildren();
  const card = new AdaptiveCards.AdaptiveCard();
  card.hostConfig = new AdaptiveCards.HostConfig(hostConfig);
  const context = new AdaptiveCards.SerializationContext(AdaptiveCards.Versions.v1_5);
  card.parse(payload, context);
  const events = [];
  for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i));
  events.push(...card.validateProperties().validationEvents);
  const rendered = card.render();
  if (rendered) host.appendChild(rendered);
  const images = [...host.querySelectorAll("img")];
  await Promise.all(images.map((img) => img.decode().catch(() => undefined)));
  const overflows = (el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
  return {
    problems: events.map((e) => `${AdaptiveCards.ValidationEvent[e.event]}: ${e.message}`),
    rendered: Boolean(rendered),
    text: host.innerText,
    buttons: [...host.querySelectorAll(".ac-pushButton")].map((b) => b.innerText.trim()),
    tappable: host.querySelectorAll(".ac-selectable:not(.ac-pushButton)").length,
    clipped: [...host.querySelectorAll(".ac-textBlock, .ac-pushButton")].filter(overflows).map((e) => e.innerText),
    images: images.map((img) => ({ alt: img.alt, loaded: img.naturalWidth > 0, width: img.width, height: img.height })),
  };
};
