// The browser side: STOMP over WebSocket to Warren's Web-STOMP port; a room is /topic/room.<id>.
/* global StompJs */
const $ = (id) => document.getElementById(id);
let client = null;
let room = null;

function show(message) {
  const item = document.createElement("li");
  const from = document.createElement("span");
  from.className = "from";
  from.textContent = message.from;
  item.append(from, document.createTextNode(message.text));
  $("messages").append(item);
  item.scrollIntoView();
}

async function join(nick, roomId) {
  if (client) await client.deactivate();
  const { webStompPort } = await (await fetch("/config.json")).json();
  room = roomId;
  $("messages").replaceChildren();
  client = new StompJs.Client({
    brokerURL: `ws://${location.hostname}:${webStompPort}/ws`,
    connectHeaders: { login: "guest", passcode: "guest" },
    reconnectDelay: 2000,
  });
  client.onConnect = () => {
    client.subscribe(`/topic/room.${roomId}`, (frame) => show(JSON.parse(frame.body)), { receipt: "joined" });
    client.watchForReceipt("joined", () => {
      // Joined once the broker confirms the subscription: from here on nothing sent to the room is missed.
      $("status").textContent = `in room ${roomId} as ${nick}`;
      $("status").dataset.room = roomId;
      $("message").disabled = false;
      $("send").disabled = false;
    });
  };
  client.onStompError = (frame) => ($("status").textContent = `error: ${frame.headers.message}`);
  client.onWebSocketClose = () => {
    $("status").textContent = "disconnected";
    delete $("status").dataset.room;
  };
  client.activate();
}

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  void join($("nick").value.trim(), $("room").value.trim());
});

$("send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text || !client?.connected) return;
  const body = JSON.stringify({ from: $("nick").value.trim(), text, at: Date.now() });
  client.publish({ destination: `/topic/room.${room}`, body, headers: { "content-type": "application/json" } });
  $("message").value = "";
});
