// Lithium BMS battery card: a plain web component, no build step.
// Served by the integration (card.py) and loaded in every frontend; it reads
// the hass object only and asks the integration's "lithium_bms/card"
// WebSocket command which entity of a device holds which value.

const DOMAIN = "lithium_bms";
const CARD = "lithium-bms-card";
const EDITOR = "lithium-bms-card-editor";
// Protections and faults, as the integration's binary sensor keys name them.
const ALARMS = [
  "cell_overvoltage", "cell_undervoltage", "pack_overvoltage",
  "pack_undervoltage", "charge_overtemperature", "charge_undertemperature",
  "discharge_overtemperature", "discharge_undertemperature",
  "charge_overcurrent", "discharge_overcurrent", "short_circuit",
  "frontend_error", "mosfet_overtemperature", "wire_resistance",
  "cell_count_mismatch", "coprocessor_error", "mosfet_fault",
  "temperature_sensor_fault", "cell_voltage_difference",
  "temperature_difference", "soc_low", "soc_high", "hardware_fault",
];
const SWITCHES = ["charge_mosfet", "discharge_mosfet", "balancer"];
const IDLE_AMPS = 0.05;
// Re-ask the integration (balancing cells, new entities) at most this often.
const REFRESH_MS = 10000;
const ENERGY_REFRESH_MS = 300000;

// The card's own words; tests/test_card.py checks every language has them all.
const STRINGS = /* strings */ {
  "en": {
    "name": "Lithium BMS battery",
    "description": "The whole pack at a glance: cells, flow, temperatures, switches and alarms.",
    "device": "Battery (BMS or bank)",
    "no_device": "Pick a Lithium BMS device in the card's settings.",
    "not_found": "{device} is not set up in Home Assistant (yet).",
    "not_battery": "This device has no battery values.",
    "loading": "Loading…",
    "soc": "State of charge",
    "estimate": "estimate",
    "voltage": "Voltage",
    "current": "Current",
    "power": "Power",
    "charging": "Charging",
    "discharging": "Discharging",
    "idle": "Idle",
    "time_to_empty": "Empty in",
    "time_to_full": "Full in",
    "energy_in": "Today in",
    "energy_out": "Today out",
    "cells": "Cells",
    "cell": "Cell {index}",
    "delta": "Delta",
    "lowest": "lowest",
    "highest": "highest",
    "balancing": "balancing",
    "imbalance": "Cells are out of balance",
    "temperatures": "Temperatures",
    "switches": "Switches",
    "alarms": "Alarms",
    "problem": "Problem",
    "no_alarm": "No alarm",
    "packs": "Packs",
    "total": "Bank",
    "min_cell": "Min cell",
    "max_cell": "Max cell",
    "unavailable": "unavailable",
    "on": "on",
    "off": "off",
    "switching": "switching…",
    "command_failed": "The command failed"
  },
  "de": {
    "name": "Lithium-BMS-Batterie",
    "description": "Die ganze Batterie auf einen Blick: Zellen, Stromfluss, Temperaturen, Schalter und Alarme.",
    "device": "Batterie (BMS oder Bank)",
    "no_device": "Wähle in den Einstellungen der Karte ein Lithium-BMS-Gerät.",
    "not_found": "{device} ist (noch) nicht in Home Assistant eingerichtet.",
    "not_battery": "Dieses Gerät hat keine Batteriewerte.",
    "loading": "Wird geladen…",
    "soc": "Ladezustand",
    "estimate": "Schätzung",
    "voltage": "Spannung",
    "current": "Strom",
    "power": "Leistung",
    "charging": "Lädt",
    "discharging": "Entlädt",
    "idle": "Ruhe",
    "time_to_empty": "Leer in",
    "time_to_full": "Voll in",
    "energy_in": "Heute geladen",
    "energy_out": "Heute entladen",
    "cells": "Zellen",
    "cell": "Zelle {index}",
    "delta": "Differenz",
    "lowest": "niedrigste",
    "highest": "höchste",
    "balancing": "balanciert",
    "imbalance": "Die Zellen sind nicht im Gleichgewicht",
    "temperatures": "Temperaturen",
    "switches": "Schalter",
    "alarms": "Alarme",
    "problem": "Problem",
    "no_alarm": "Kein Alarm",
    "packs": "Batterien",
    "total": "Bank",
    "min_cell": "Min. Zelle",
    "max_cell": "Max. Zelle",
    "unavailable": "nicht verfügbar",
    "on": "an",
    "off": "aus",
    "switching": "schaltet…",
    "command_failed": "Der Befehl ist fehlgeschlagen"
  },
  "nl": {
    "name": "Lithium BMS-accu",
    "description": "De hele batterij in één oogopslag: cellen, stroom, temperaturen, schakelaars en alarmen.",
    "device": "Accu (BMS of bank)",
    "no_device": "Kies een Lithium BMS-apparaat in de instellingen van de kaart.",
    "not_found": "{device} is (nog) niet ingesteld in Home Assistant.",
    "not_battery": "Dit apparaat heeft geen accuwaarden.",
    "loading": "Laden…",
    "soc": "Laadtoestand",
    "estimate": "schatting",
    "voltage": "Spanning",
    "current": "Stroom",
    "power": "Vermogen",
    "charging": "Laden",
    "discharging": "Ontladen",
    "idle": "Rust",
    "time_to_empty": "Leeg over",
    "time_to_full": "Vol over",
    "energy_in": "Vandaag in",
    "energy_out": "Vandaag uit",
    "cells": "Cellen",
    "cell": "Cel {index}",
    "delta": "Verschil",
    "lowest": "laagste",
    "highest": "hoogste",
    "balancing": "balanceert",
    "imbalance": "De cellen zijn uit balans",
    "temperatures": "Temperaturen",
    "switches": "Schakelaars",
    "alarms": "Alarmen",
    "problem": "Probleem",
    "no_alarm": "Geen alarm",
    "packs": "Batterijen",
    "total": "Bank",
    "min_cell": "Min. cel",
    "max_cell": "Max. cel",
    "unavailable": "niet beschikbaar",
    "on": "aan",
    "off": "uit",
    "switching": "schakelt…",
    "command_failed": "De opdracht is mislukt"
  },
  "fr": {
    "name": "Batterie Lithium BMS",
    "description": "Toute la batterie d'un coup d'œil : cellules, flux, températures, interrupteurs et alarmes.",
    "device": "Batterie (BMS ou parc)",
    "no_device": "Choisissez un appareil Lithium BMS dans les paramètres de la carte.",
    "not_found": "{device} n'est pas (encore) configuré dans Home Assistant.",
    "not_battery": "Cet appareil n'a pas de valeurs de batterie.",
    "loading": "Chargement…",
    "soc": "État de charge",
    "estimate": "estimation",
    "voltage": "Tension",
    "current": "Courant",
    "power": "Puissance",
    "charging": "En charge",
    "discharging": "En décharge",
    "idle": "Au repos",
    "time_to_empty": "Vide dans",
    "time_to_full": "Pleine dans",
    "energy_in": "Entrée aujourd'hui",
    "energy_out": "Sortie aujourd'hui",
    "cells": "Cellules",
    "cell": "Cellule {index}",
    "delta": "Écart",
    "lowest": "la plus basse",
    "highest": "la plus haute",
    "balancing": "en équilibrage",
    "imbalance": "Les cellules sont déséquilibrées",
    "temperatures": "Températures",
    "switches": "Interrupteurs",
    "alarms": "Alarmes",
    "problem": "Problème",
    "no_alarm": "Aucune alarme",
    "packs": "Batteries",
    "total": "Parc",
    "min_cell": "Cellule min.",
    "max_cell": "Cellule max.",
    "unavailable": "indisponible",
    "on": "activé",
    "off": "désactivé",
    "switching": "commutation…",
    "command_failed": "La commande a échoué"
  },
  "es": {
    "name": "Batería Lithium BMS",
    "description": "Toda la batería de un vistazo: celdas, flujo, temperaturas, interruptores y alarmas.",
    "device": "Batería (BMS o banco)",
    "no_device": "Elige un dispositivo Lithium BMS en los ajustes de la tarjeta.",
    "not_found": "{device} no está configurado (todavía) en Home Assistant.",
    "not_battery": "Este dispositivo no tiene valores de batería.",
    "loading": "Cargando…",
    "soc": "Estado de carga",
    "estimate": "estimación",
    "voltage": "Tensión",
    "current": "Corriente",
    "power": "Potencia",
    "charging": "Cargando",
    "discharging": "Descargando",
    "idle": "En reposo",
    "time_to_empty": "Vacía en",
    "time_to_full": "Llena en",
    "energy_in": "Entrada hoy",
    "energy_out": "Salida hoy",
    "cells": "Celdas",
    "cell": "Celda {index}",
    "delta": "Diferencia",
    "lowest": "la más baja",
    "highest": "la más alta",
    "balancing": "balanceando",
    "imbalance": "Las celdas están desequilibradas",
    "temperatures": "Temperaturas",
    "switches": "Interruptores",
    "alarms": "Alarmas",
    "problem": "Problema",
    "no_alarm": "Sin alarmas",
    "packs": "Baterías",
    "total": "Banco",
    "min_cell": "Celda mín.",
    "max_cell": "Celda máx.",
    "unavailable": "no disponible",
    "on": "encendido",
    "off": "apagado",
    "switching": "conmutando…",
    "command_failed": "El comando ha fallado"
  },
  "it": {
    "name": "Batteria Lithium BMS",
    "description": "Tutto il pacco a colpo d'occhio: celle, flusso, temperature, interruttori e allarmi.",
    "device": "Batteria (BMS o banco)",
    "no_device": "Scegli un dispositivo Lithium BMS nelle impostazioni della scheda.",
    "not_found": "{device} non è (ancora) configurato in Home Assistant.",
    "not_battery": "Questo dispositivo non ha valori di batteria.",
    "loading": "Caricamento…",
    "soc": "Stato di carica",
    "estimate": "stima",
    "voltage": "Tensione",
    "current": "Corrente",
    "power": "Potenza",
    "charging": "In carica",
    "discharging": "In scarica",
    "idle": "A riposo",
    "time_to_empty": "Scarica tra",
    "time_to_full": "Carica tra",
    "energy_in": "Entrata oggi",
    "energy_out": "Uscita oggi",
    "cells": "Celle",
    "cell": "Cella {index}",
    "delta": "Differenza",
    "lowest": "la più bassa",
    "highest": "la più alta",
    "balancing": "in bilanciamento",
    "imbalance": "Le celle sono sbilanciate",
    "temperatures": "Temperature",
    "switches": "Interruttori",
    "alarms": "Allarmi",
    "problem": "Problema",
    "no_alarm": "Nessun allarme",
    "packs": "Pacchi",
    "total": "Banco",
    "min_cell": "Cella min.",
    "max_cell": "Cella max.",
    "unavailable": "non disponibile",
    "on": "acceso",
    "off": "spento",
    "switching": "commutazione…",
    "command_failed": "Il comando non è riuscito"
  },
  "pl": {
    "name": "Akumulator Lithium BMS",
    "description": "Cały pakiet na pierwszy rzut oka: ogniwa, przepływ, temperatury, przełączniki i alarmy.",
    "device": "Akumulator (BMS lub bank)",
    "no_device": "Wybierz urządzenie Lithium BMS w ustawieniach karty.",
    "not_found": "{device} nie jest (jeszcze) skonfigurowane w Home Assistant.",
    "not_battery": "To urządzenie nie ma wartości akumulatora.",
    "loading": "Ładowanie…",
    "soc": "Stan naładowania",
    "estimate": "szacunek",
    "voltage": "Napięcie",
    "current": "Prąd",
    "power": "Moc",
    "charging": "Ładowanie",
    "discharging": "Rozładowywanie",
    "idle": "Spoczynek",
    "time_to_empty": "Pusty za",
    "time_to_full": "Pełny za",
    "energy_in": "Dziś pobrano",
    "energy_out": "Dziś oddano",
    "cells": "Ogniwa",
    "cell": "Ogniwo {index}",
    "delta": "Różnica",
    "lowest": "najniższe",
    "highest": "najwyższe",
    "balancing": "balansowanie",
    "imbalance": "Ogniwa są niezrównoważone",
    "temperatures": "Temperatury",
    "switches": "Przełączniki",
    "alarms": "Alarmy",
    "problem": "Problem",
    "no_alarm": "Brak alarmów",
    "packs": "Pakiety",
    "total": "Bank",
    "min_cell": "Min. ogniwo",
    "max_cell": "Maks. ogniwo",
    "unavailable": "niedostępne",
    "on": "włączony",
    "off": "wyłączony",
    "switching": "przełączanie…",
    "command_failed": "Polecenie nie powiodło się"
  },
  "pt": {
    "name": "Bateria Lithium BMS",
    "description": "Toda a bateria num relance: células, fluxo, temperaturas, interruptores e alarmes.",
    "device": "Bateria (BMS ou banco)",
    "no_device": "Escolha um dispositivo Lithium BMS nas definições do cartão.",
    "not_found": "{device} não está (ainda) configurado no Home Assistant.",
    "not_battery": "Este dispositivo não tem valores de bateria.",
    "loading": "A carregar…",
    "soc": "Estado de carga",
    "estimate": "estimativa",
    "voltage": "Tensão",
    "current": "Corrente",
    "power": "Potência",
    "charging": "A carregar",
    "discharging": "A descarregar",
    "idle": "Em repouso",
    "time_to_empty": "Vazia em",
    "time_to_full": "Cheia em",
    "energy_in": "Entrada hoje",
    "energy_out": "Saída hoje",
    "cells": "Células",
    "cell": "Célula {index}",
    "delta": "Diferença",
    "lowest": "a mais baixa",
    "highest": "a mais alta",
    "balancing": "a balancear",
    "imbalance": "As células estão desequilibradas",
    "temperatures": "Temperaturas",
    "switches": "Interruptores",
    "alarms": "Alarmes",
    "problem": "Problema",
    "no_alarm": "Sem alarmes",
    "packs": "Baterias",
    "total": "Banco",
    "min_cell": "Célula mín.",
    "max_cell": "Célula máx.",
    "unavailable": "indisponível",
    "on": "ligado",
    "off": "desligado",
    "switching": "a comutar…",
    "command_failed": "O comando falhou"
  },
  "cs": {
    "name": "Baterie Lithium BMS",
    "description": "Celá baterie na první pohled: články, tok proudu, teploty, přepínače a alarmy.",
    "device": "Baterie (BMS nebo banka)",
    "no_device": "V nastavení karty vyberte zařízení Lithium BMS.",
    "not_found": "{device} (zatím) není v Home Assistant nastaveno.",
    "not_battery": "Toto zařízení nemá hodnoty baterie.",
    "loading": "Načítání…",
    "soc": "Stav nabití",
    "estimate": "odhad",
    "voltage": "Napětí",
    "current": "Proud",
    "power": "Výkon",
    "charging": "Nabíjí se",
    "discharging": "Vybíjí se",
    "idle": "Klid",
    "time_to_empty": "Prázdná za",
    "time_to_full": "Plná za",
    "energy_in": "Dnes nabito",
    "energy_out": "Dnes vybito",
    "cells": "Články",
    "cell": "Článek {index}",
    "delta": "Rozdíl",
    "lowest": "nejnižší",
    "highest": "nejvyšší",
    "balancing": "vyvažuje se",
    "imbalance": "Články nejsou vyvážené",
    "temperatures": "Teploty",
    "switches": "Přepínače",
    "alarms": "Alarmy",
    "problem": "Problém",
    "no_alarm": "Žádný alarm",
    "packs": "Baterie",
    "total": "Banka",
    "min_cell": "Min. článek",
    "max_cell": "Max. článek",
    "unavailable": "nedostupné",
    "on": "zapnuto",
    "off": "vypnuto",
    "switching": "přepíná se…",
    "command_failed": "Příkaz selhal"
  }
} /* end strings */;

function language(hass) {
  const lang = (hass && (hass.locale?.language || hass.language)) || "en";
  return STRINGS[lang] ? lang : STRINGS[lang.split("-")[0]] ? lang.split("-")[0] : "en";
}

function translate(hass, key, values = {}) {
  const text = STRINGS[language(hass)][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// A number from a state, or null when it is unknown, unavailable or absent.
function numeric(state) {
  if (!state) return null;
  const value = Number.parseFloat(state.state);
  return Number.isFinite(value) ? value : null;
}

function formatNumber(hass, value, digits) {
  return value.toLocaleString(hass.locale?.language || hass.language || "en", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function formatDuration(hours) {
  const minutes = Math.round(hours * 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min`;
}

const HOURS_PER_UNIT = { s: 1 / 3600, min: 1 / 60, h: 1, d: 24 };

// Lithium BMS devices: those with an entity of the integration.
function bmsDevices(hass) {
  const ids = new Set(
    Object.values(hass.entities || {})
      .filter((e) => e.platform === DOMAIN && e.device_id)
      .map((e) => e.device_id),
  );
  return [...ids]
    .map((id) => hass.devices?.[id])
    .filter(Boolean)
    .sort((a, b) => deviceName(a).localeCompare(deviceName(b)));
}

function deviceName(device) {
  return device.name_by_user || device.name || device.id;
}

const STYLE = `
  :host { display: block; }
  ha-card { padding: 16px; color: var(--primary-text-color); }
  .header { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; flex-wrap: wrap; }
  .title { font-size: 1.25em; font-weight: 500; }
  .soc { font-size: 2em; font-weight: 600; }
  .soc small { font-size: 0.45em; color: var(--secondary-text-color); font-weight: 400; }
  .banner { margin: 8px 0; padding: 8px 12px; border-radius: 8px; font-weight: 600;
    background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
  .banner.warn { background: var(--warning-color, #ffa600); }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 8px; margin: 12px 0; }
  .value { display: flex; flex-direction: column; }
  .label { font-size: 0.8em; color: var(--secondary-text-color); }
  .big { font-size: 1.1em; font-weight: 500; }
  .flow.charging { color: var(--success-color, #43a047); }
  .flow.discharging { color: var(--warning-color, #ffa600); }
  h3 { font-size: 0.95em; font-weight: 500; margin: 14px 0 6px; color: var(--secondary-text-color); }
  .cells { display: grid; grid-template-columns: repeat(auto-fill, minmax(40px, 1fr)); gap: 4px; }
  .cell { display: flex; flex-direction: column; align-items: center; font-size: 0.7em; }
  .bar { position: relative; width: 100%; height: 56px; border-radius: 4px;
    background: var(--secondary-background-color, #e0e0e0); overflow: hidden;
    border: 2px solid transparent; box-sizing: border-box; }
  .fill { position: absolute; bottom: 0; left: 0; right: 0; background: var(--success-color, #43a047); }
  .cell.min .bar { border-color: var(--info-color, #039be5); }
  .cell.min .fill { background: var(--info-color, #039be5); }
  .cell.max .bar { border-color: var(--error-color, #db4437); }
  .cell.max .fill { background: var(--error-color, #db4437); }
  .cell.balancing .bar { box-shadow: 0 0 0 2px var(--warning-color, #ffa600); }
  .cell .mark { height: 1.2em; font-weight: 600; }
  .cell.unavailable .bar { opacity: 0.4; }
  .cellinfo { margin-top: 6px; font-size: 0.85em; color: var(--secondary-text-color); }
  .temps, .alarms { display: flex; flex-wrap: wrap; gap: 6px 16px; }
  .switches { display: flex; flex-wrap: wrap; gap: 8px; }
  .switch { display: flex; flex-direction: column; gap: 4px; }
  button.toggle { font: inherit; min-width: 132px; min-height: 40px; padding: 6px 12px; border-radius: 20px;
    border: 1px solid var(--divider-color, #ccc); cursor: pointer;
    background: var(--card-background-color, #fff); color: var(--primary-text-color); }
  button.toggle[aria-checked="true"] { background: var(--primary-color, #03a9f4);
    color: var(--text-primary-color, #fff); border-color: var(--primary-color, #03a9f4); }
  button.toggle:focus-visible { outline: 3px solid var(--accent-color, #ff9800); outline-offset: 2px; }
  button.toggle:disabled { opacity: 0.5; cursor: default; }
  .error { color: var(--error-color, #db4437); font-size: 0.85em; max-width: 280px; }
  .alarm { color: var(--error-color, #db4437); font-weight: 500; }
  .muted { color: var(--secondary-text-color); }
  table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
  th, td { text-align: start; padding: 4px; border-bottom: 1px solid var(--divider-color, #ddd); }
  td.num, th.num { text-align: end; }
  tr.problem td { color: var(--error-color, #db4437); font-weight: 600; }
`;

class LithiumBmsCard extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._info = null;
    this._infoError = null;
    this._infoAt = 0;
    this._infoFor = null;
    this._asking = false;
    this._pending = {};
    this._errors = {};
    this._energy = {};
    this._energyAt = 0;
    this._shown = null;
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    this._config = { ...config };
    this._info = null;
    this._infoFor = null;
    this._shown = null;
    if (this._hass) this._update();
  }

  set hass(hass) {
    this._hass = hass;
    this._update();
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    const cells = this._info ? this._cellKeys().length : 16;
    return 5 + Math.ceil(cells / 8);
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6 };
  }

  static getConfigElement() {
    return document.createElement(EDITOR);
  }

  static getStubConfig(hass) {
    const device = bmsDevices(hass)[0];
    return device ? { device: device.id } : {};
  }

  _deviceId() {
    const wanted = this._config?.device;
    if (!wanted || !this._hass) return null;
    if (this._hass.devices?.[wanted]) return wanted;
    // A device named in YAML (the development dashboard does so).
    const named = bmsDevices(this._hass).find((d) => deviceName(d).trim() === String(wanted).trim());
    return named ? named.id : null;
  }

  _update() {
    const deviceId = this._deviceId();
    const now = Date.now();
    if (deviceId && !this._asking &&
        (deviceId !== this._infoFor || now - this._infoAt > REFRESH_MS)) {
      this._ask(deviceId);
    }
    if (this._info && now - this._energyAt > ENERGY_REFRESH_MS) this._askEnergy();
    this._render(deviceId);
  }

  async _ask(deviceId) {
    this._asking = true;
    try {
      this._info = await this._hass.callWS({ type: `${DOMAIN}/card`, device_id: deviceId });
      this._infoError = null;
      if (this._infoFor !== deviceId) this._energyAt = 0;
    } catch (err) {
      this._info = null;
      this._infoError = err?.message || String(err);
    }
    this._infoFor = deviceId;
    this._infoAt = Date.now();
    this._asking = false;
    this._shown = null;
    this._update();
  }

  // Today's energy in and out: the change of the totals since midnight, in kWh
  // whatever unit the user shows the sensors in (Home Assistant answers in the
  // sensor's unit unless asked for one).
  async _askEnergy() {
    this._energyAt = Date.now();
    const entities = this._info?.entities || {};
    for (const key of ["charge_energy", "discharge_energy"]) {
      const entityId = entities[key];
      if (!entityId) continue;
      try {
        const result = await this._hass.callWS({
          type: "recorder/statistic_during_period",
          statistic_id: entityId,
          calendar: { period: "day" },
          types: ["change"],
          units: { energy: "kWh" },
        });
        this._energy[key] = typeof result?.change === "number" ? result.change : null;
      } catch (_err) {
        this._energy[key] = null;
      }
    }
    this._shown = null;
    this._render(this._deviceId());
  }

  _state(key, entities = this._info?.entities) {
    const entityId = entities?.[key];
    return entityId ? this._hass.states[entityId] : undefined;
  }

  _cellKeys() {
    return Object.keys(this._info?.entities || {})
      .map((key) => /^cell_voltage_(\d+)$/.exec(key))
      .filter(Boolean)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  // The entity's own name: its friendly name without the device's name.
  _entityName(state) {
    const name = state?.attributes?.friendly_name || state?.entity_id || "";
    const deviceId = this._hass.entities?.[state?.entity_id]?.device_id;
    const device = deviceId && this._hass.devices?.[deviceId];
    const prefix = device ? `${deviceName(device)} ` : "";
    return prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
  }

  // What a render shows depends on these; skip the render when they did not change.
  _signature(deviceId) {
    const ids = [
      ...Object.values(this._info?.entities || {}),
      ...(this._info?.members || []).flatMap((m) => Object.values(m.entities)),
    ];
    return [
      deviceId, language(this._hass), this._hass.themes?.darkMode,
      JSON.stringify(this._pending), JSON.stringify(this._errors),
      JSON.stringify(this._energy), this._infoAt,
      ...ids.map((id) => this._hass.states[id]),
    ];
  }

  _render(deviceId) {
    if (!this._hass) return;
    const signature = this._signature(deviceId);
    if (this._shown && signature.length === this._shown.length &&
        signature.every((v, i) => v === this._shown[i])) return;
    this._shown = signature;
    const t = (key, values) => translate(this._hass, key, values);
    let body;
    if (!deviceId && this._config?.device) {
      body = `<p class="muted">${escape(t("not_found", { device: this._config.device }))}</p>`;
    } else if (!deviceId) body = `<p class="muted">${escape(t("no_device"))}</p>`;
    else if (this._infoError) body = `<p class="error" role="alert">${escape(this._infoError)}</p>`;
    else if (!this._info) body = `<p class="muted">${escape(t("loading"))}</p>`;
    else if (this._info.kind === "pack") body = this._pack();
    else if (this._info.kind === "bank") body = this._bank();
    else body = `<p class="muted">${escape(t("not_battery"))}</p>`;
    const device = deviceId && this._hass.devices[deviceId];
    const title = this._config?.title || (device ? deviceName(device) : t("name"));
    const focused = this.shadowRoot.activeElement?.dataset?.switch;
    this.shadowRoot.innerHTML = `<style>${STYLE}</style>
      <ha-card>
        <div class="header"><span class="title">${escape(title)}</span>${this._socHtml()}</div>
        ${body}
      </ha-card>`;
    for (const button of this.shadowRoot.querySelectorAll("button[data-switch]")) {
      button.addEventListener("click", () => this._toggle(button.dataset.switch));
    }
    if (focused) this.shadowRoot.querySelector(`button[data-switch="${focused}"]`)?.focus();
  }

  _value(key, digits, unit, entities) {
    const value = numeric(this._state(key, entities));
    return value === null ? "–" : `${formatNumber(this._hass, value, digits)} ${unit}`;
  }

  _socHtml() {
    if (!this._info || this._info.kind === "none") return "";
    const soc = numeric(this._state("state_of_charge"));
    const estimate = numeric(this._state("estimated_state_of_charge"));
    if (soc === null) return "";
    const label = translate(this._hass, "soc");
    const extra = estimate !== null && Math.abs(estimate - soc) >= 1
      ? ` <small>(${escape(translate(this._hass, "estimate"))} ${Math.round(estimate)} %)</small>`
      : "";
    return `<span class="soc" aria-label="${escape(label)}">${Math.round(soc)} %${extra}</span>`;
  }

  _flowHtml() {
    const t = (key) => translate(this._hass, key);
    const current = numeric(this._state("current"));
    const power = numeric(this._state("power"));
    let direction = "idle";
    if (current !== null && current > IDLE_AMPS) direction = "charging";
    else if (current !== null && current < -IDLE_AMPS) direction = "discharging";
    const arrow = { charging: "▲", discharging: "▼", idle: "■" }[direction];
    const items = [
      [t("voltage"), this._value("voltage", 2, "V")],
      [t("current"), this._value("current", 2, "A")],
      [t("power"), power === null ? "–"
        : `<span class="flow ${direction}">${arrow} ${formatNumber(this._hass, Math.abs(power), 0)} W</span>`],
      ["", `<span class="flow ${direction}">${escape(t(direction))}</span>`],
    ];
    const hours = this._hoursLeft(direction, current);
    if (hours !== null) {
      items.push([t(direction === "charging" ? "time_to_full" : "time_to_empty"), formatDuration(hours)]);
    }
    for (const [key, label] of [["charge_energy", "energy_in"], ["discharge_energy", "energy_out"]]) {
      if (this._info.entities[key] && typeof this._energy[key] === "number") {
        items.push([t(label), `${formatNumber(this._hass, this._energy[key], 2)} kWh`]);
      }
    }
    return `<div class="grid">${items.map(([label, value]) =>
      `<div class="value"><span class="label">${escape(label)}</span><span class="big">${value}</span></div>`).join("")}</div>`;
  }

  // Hours to empty (the integration's runtime) or to full (the missing charge over the current).
  _hoursLeft(direction, current) {
    if (direction === "discharging") {
      const runtime = this._state("runtime");
      const value = numeric(runtime);
      const perUnit = HOURS_PER_UNIT[runtime?.attributes?.unit_of_measurement];
      return value !== null && perUnit ? value * perUnit : null;
    }
    if (direction === "charging") {
      const full = numeric(this._state("full_capacity"));
      const remaining = numeric(this._state("remaining_capacity"));
      if (full === null || remaining === null || current <= 0) return null;
      return Math.max(0, full - remaining) / current;
    }
    return null;
  }

  _cellsHtml() {
    const t = (key, values) => translate(this._hass, key, values);
    const indexes = this._cellKeys();
    if (!indexes.length) return "";
    const window = this._info.cell_window || { empty: 2.9, full: 3.45 };
    const span = window.full - window.empty;
    const volts = indexes.map((i) => numeric(this._state(`cell_voltage_${i}`)));
    const known = volts.filter((v) => v !== null);
    const low = known.length ? Math.min(...known) : null;
    const high = known.length ? Math.max(...known) : null;
    const balancing = new Set(this._info.balancing_cells || []);
    const tiles = indexes.map((index, n) => {
      const v = volts[n];
      const classes = ["cell"];
      const notes = [];
      if (v === null) classes.push("unavailable");
      else if (known.length > 1 && low !== high && v === low) { classes.push("min"); notes.push(t("lowest")); }
      else if (known.length > 1 && low !== high && v === high) { classes.push("max"); notes.push(t("highest")); }
      if (balancing.has(index)) { classes.push("balancing"); notes.push(t("balancing")); }
      const fraction = v === null ? 0 : Math.min(1, Math.max(0, (v - window.empty) / span));
      const shown = v === null ? "–" : formatNumber(this._hass, v, 3);
      const label = `${t("cell", { index })}: ${v === null ? t("unavailable") : `${shown} V`}${notes.length ? `, ${notes.join(", ")}` : ""}`;
      const mark = classes.includes("min") ? "▼" : classes.includes("max") ? "▲" : balancing.has(index) ? "≈" : "";
      return `<div class="${classes.join(" ")}" role="img" aria-label="${escape(label)}" title="${escape(label)}">
        <span class="mark" aria-hidden="true">${mark}</span>
        <div class="bar"><div class="fill" style="height:${(fraction * 100).toFixed(1)}%"></div></div>
        <span aria-hidden="true">${shown}</span><span class="muted" aria-hidden="true">${index}</span></div>`;
    }).join("");
    const delta = this._value("cell_voltage_delta", 3, "V");
    const imbalance = this._state("cell_imbalance")?.state === "on"
      ? `<div class="banner warn" role="alert">${escape(t("imbalance"))}</div>` : "";
    return `<h3>${escape(t("cells"))} (${indexes.length})</h3>${imbalance}
      <div class="cells">${tiles}</div>
      <div class="cellinfo">${escape(t("delta"))}: ${delta} · ${escape(t("min_cell"))}: ${this._value("cell_voltage_min", 3, "V")} · ${escape(t("max_cell"))}: ${this._value("cell_voltage_max", 3, "V")}</div>`;
  }

  _temperaturesHtml() {
    const keys = Object.keys(this._info.entities)
      .filter((key) => /^temperature_\d+$/.test(key) || key === "mosfet_temperature")
      .sort((a, b) => (a === "mosfet_temperature") - (b === "mosfet_temperature") ||
        Number(a.split("_")[1]) - Number(b.split("_")[1]));
    if (!keys.length) return "";
    const items = keys.map((key) => {
      const state = this._state(key);
      const value = numeric(state);
      const unit = state?.attributes?.unit_of_measurement || "°C";
      return `<span><span class="label">${escape(this._entityName(state))}</span> ${value === null ? "–" : `${formatNumber(this._hass, value, 1)} ${escape(unit)}`}</span>`;
    }).join("");
    return `<h3>${escape(translate(this._hass, "temperatures"))}</h3><div class="temps">${items}</div>`;
  }

  _switchesHtml() {
    const t = (key) => translate(this._hass, key);
    const present = SWITCHES.filter((key) => this._info.entities[key]);
    if (!present.length) return "";
    const items = present.map((key) => {
      const state = this._state(key);
      const on = state?.state === "on";
      const known = state && (state.state === "on" || state.state === "off");
      const name = this._entityName(state);
      const pending = this._pending[key];
      const shown = pending ? t("switching") : known ? t(on ? "on" : "off") : t("unavailable");
      const error = this._errors[key]
        ? `<span class="error" role="alert" id="error-${key}">${escape(this._errors[key])}</span>` : "";
      return `<div class="switch">
        <button class="toggle" role="switch" data-switch="${key}" aria-checked="${on}"
          aria-label="${escape(name)}" ${error ? `aria-describedby="error-${key}"` : ""}
          ${!known || pending ? "disabled" : ""} ${pending ? 'aria-busy="true"' : ""}>${escape(name)}: ${escape(shown)}</button>
        ${error}</div>`;
    }).join("");
    return `<h3>${escape(t("switches"))}</h3><div class="switches">${items}</div>`;
  }

  async _toggle(key) {
    const state = this._state(key);
    if (!state || this._pending[key]) return;
    const service = state.state === "on" ? "turn_off" : "turn_on";
    this._pending = { ...this._pending, [key]: true };
    const { [key]: _dropped, ...errors } = this._errors;
    this._errors = errors;
    this._render(this._deviceId());
    try {
      await this._hass.callService("switch", service, { entity_id: state.entity_id });
    } catch (err) {
      this._errors = { ...this._errors, [key]: this._errorText(err) };
    }
    const { [key]: _done, ...pending } = this._pending;
    this._pending = pending;
    this._render(this._deviceId());
  }

  // A refused command's message, in the user's language where the frontend has it.
  _errorText(err) {
    if (err?.translation_key && err?.translation_domain && this._hass.localize) {
      const text = this._hass.localize(
        `component.${err.translation_domain}.exceptions.${err.translation_key}.message`,
        err.translation_placeholders || {},
      );
      if (text) return text;
    }
    return err?.message || translate(this._hass, "command_failed");
  }

  _alarmsHtml(entities = this._info.entities) {
    const t = (key) => translate(this._hass, key);
    // A BMS that reports no protection state has no "No alarm" to show.
    if (!entities?.problem && !ALARMS.some((key) => entities?.[key])) {
      return { banner: "", list: "" };
    }
    const problem = this._state("problem", entities)?.state === "on";
    const active = ALARMS.filter((key) => this._state(key, entities)?.state === "on")
      .map((key) => this._entityName(this._state(key, entities)));
    const banner = problem
      ? `<div class="banner" role="alert">${escape(t("problem"))}${active.length ? `: ${escape(active.join(", "))}` : ""}</div>`
      : "";
    const list = active.length
      ? active.map((name) => `<span class="alarm">${escape(name)}</span>`).join("")
      : `<span class="muted">${escape(t("no_alarm"))}</span>`;
    return { banner, list: `<h3>${escape(t("alarms"))}</h3><div class="alarms">${list}</div>` };
  }

  _pack() {
    const alarms = this._alarmsHtml();
    return `${alarms.banner}${this._flowHtml()}${this._cellsHtml()}${this._temperaturesHtml()}${this._switchesHtml()}${alarms.list}`;
  }

  _bank() {
    const t = (key) => translate(this._hass, key);
    const rows = (this._info.members || []).map((member) => {
      const e = member.entities;
      const problem = this._state("problem", e)?.state === "on";
      const soc = numeric(this._state("state_of_charge", e));
      return `<tr class="${problem ? "problem" : ""}">
        <td>${escape(member.name)}</td>
        <td class="num">${soc === null ? "–" : `${Math.round(soc)} %`}</td>
        <td class="num">${this._value("cell_voltage_min", 3, "V", e)}</td>
        <td class="num">${this._value("cell_voltage_max", 3, "V", e)}</td>
        <td>${problem ? escape(t("problem")) : ""}</td></tr>`;
    }).join("");
    const alarms = this._alarmsHtml();
    return `${alarms.banner}${this._flowHtml()}
      <h3>${escape(t("packs"))}</h3>
      <table><thead><tr><th scope="col">${escape(t("packs"))}</th><th scope="col" class="num">${escape(t("soc"))}</th>
        <th scope="col" class="num">${escape(t("min_cell"))}</th><th scope="col" class="num">${escape(t("max_cell"))}</th>
        <th scope="col">${escape(t("problem"))}</th></tr></thead><tbody>${rows}</tbody></table>
      <div class="cellinfo">${escape(t("total"))}: ${escape(t("min_cell"))} ${this._value("cell_voltage_min", 3, "V")} · ${escape(t("max_cell"))} ${this._value("cell_voltage_max", 3, "V")}</div>
      ${this._switchesHtml()}`;
  }
}

class LithiumBmsCardEditor extends HTMLElement {
  setConfig(config) {
    this._config = { ...config };
    this._render();
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (first) this._render();
  }

  _render() {
    if (!this._hass || !this._config) return;
    const label = translate(this._hass, "device");
    const options = bmsDevices(this._hass).map((device) =>
      `<option value="${escape(device.id)}" ${device.id === this._config.device ? "selected" : ""}>${escape(deviceName(device))}</option>`,
    ).join("");
    this.innerHTML = `<label style="display:flex;flex-direction:column;gap:4px">${escape(label)}
      <select id="device" style="font:inherit;padding:8px">${this._config.device ? "" : "<option value=\"\"></option>"}${options}</select></label>`;
    this.querySelector("select").addEventListener("change", (ev) => {
      this._config = { ...this._config, device: ev.target.value };
      this.dispatchEvent(new CustomEvent("config-changed", {
        detail: { config: this._config }, bubbles: true, composed: true,
      }));
    });
  }
}

// The frontend replaces window.customElements with a scoped registry when its
// app starts: define the card once the app is there, in the registry it uses.
function register() {
  const registry = window.customElements;
  if (!registry.get(CARD)) registry.define(CARD, LithiumBmsCard);
  if (!registry.get(EDITOR)) registry.define(EDITOR, LithiumBmsCardEditor);
}
window.customElements.whenDefined("home-assistant").then(register);
window.customCards = window.customCards || [];
if (!window.customCards.some((card) => card.type === CARD)) {
  // Read when the card picker opens, so in the user's language of that moment
  // (this script may run before the frontend has a hass object).
  const frontendHass = () => document.querySelector("home-assistant")?.hass;
  window.customCards.push({
    type: CARD,
    get name() { return translate(frontendHass(), "name"); },
    get description() { return translate(frontendHass(), "description"); },
    preview: true,
    documentationURL: "https://github.com/lithium-bms/lithium-bms-ha#battery-card",
  });
}
