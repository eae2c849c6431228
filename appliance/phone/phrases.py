"""What the phone says, in each language it speaks: data, one table per language.

A language is a table with every key of English's; a new language is a new table (and, for the
speech engine, a voice: ``appliance.drivers.speech.VOICES``). Templates take their values with
``str.format``; numbers are written as digits, so the speech engine reads them in the language.
"""

from __future__ import annotations

EN = {
    "greeting_record": "Record your greeting after the tone, and press pound when you are done.",
    "greeting_review": (
        "Your new greeting follows. Then: 1 keeps it, 2 records it again, star keeps the old one."
    ),
    "greeting_none": "Nothing was recorded. 2 records again, star goes back.",
    "greeting_kept": "Your greeting is saved: callers hear it from now on.",
    "greeting": (
        "Hello. Nobody can take your call just now. Please leave a message after the tone, "
        "and press pound when you are done."
    ),
    "no_messages": "You have no messages.",
    "one_message": "You have one message.",
    "messages": "You have {count} messages.",
    "message_keys": "5 repeats, 6 goes to the next, 7 deletes, 8 calls back, star ends.",
    "message_from": "Message {n}, from {caller}, {day} at {time}.",
    "message_from_undated": "Message {n}, from {caller}.",
    "unknown_caller": "an unknown caller",
    "weekdays": "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday",
    "deleted": "Message deleted.",
    "no_more": "No more messages.",
    "intro": (
        "Voice menu. 1: the web page's address. 2: this phone's identity. 3: connection state. "
        "4: firmware version. 5: setup code. 9: restart. 0: factory reset. "
        "Pound repeats, star goes back."
    ),
    "no_item": "There is no item {key}.",
    "address": "The web page is at {address}, or at {name}.",
    "address_only": "The web page is at {address}.",
    "no_address": "This phone has no network address yet.",
    "access_point": (
        "No network found: this phone has its own Wi-Fi, {name}, password {key}. "
        "Join it, then open {address}."
    ),
    "dot": "dot",
    "port": "port",
    "jami_name": "This phone's Jami name is {name}.",
    "jami_id": "This phone's Jami ID is {id}.",
    "sip": "SIP number {user} at {host}.",
    "sip_direct": "SIP number {user}, direct calls.",
    "no_account": "This phone has no account yet.",
    "service_down": "Phone service is restarting.",
    "no_emergency_line": (
        "Emergency calls cannot be made from this phone now: no phone line is connected. Use another phone."
    ),
    "jami_registered": "Jami: connected to the network.",
    "jami_trying": "Jami: connecting.",
    "jami_down": "Jami: not connected.",
    "sip_registered": "SIP {user}: registered.",
    "sip_trying": "SIP {user}: registering.",
    "sip_down": "SIP {user}: not registered.",
    "ethernet": "Ethernet: {address}.",
    "wifi": "Wi-Fi: {address}.",
    "link": "{name}: {address}.",
    "no_network": "No network: plug in the cable or set up Wi-Fi.",
    "version": "Firmware version {version}.",
    "version_unknown": "The firmware version is not known.",
    "setup_code": "The setup code is {code}.",
    "no_setup_code": "This phone is set up: there is no setup code.",
    "reboot_confirm": "To restart the phone, press 9 again. Star goes back.",
    "rebooting": "Restarting. Goodbye.",
    "reset_confirm": (
        "Factory reset erases everything on this phone. To go ahead, dial {code}. Star goes back."
    ),
    "resetting": "Erasing everything. The phone starts again as new.",
    "wrong_code": "Wrong code: nothing was erased.",
}

DE = {
    "greeting_record": (
        "Sprechen Sie Ihre Ansage nach dem Signalton, und drücken Sie Raute, wenn Sie fertig sind."
    ),
    "greeting_review": (
        "Ihre neue Ansage folgt. Danach: 1 behält sie, 2 nimmt sie neu auf, Stern behält die alte."
    ),
    "greeting_none": "Es wurde nichts aufgenommen. 2 nimmt neu auf, Stern geht zurück.",
    "greeting_kept": "Ihre Ansage ist gespeichert: Anrufer hören sie ab jetzt.",
    "greeting": (
        "Hallo. Leider ist gerade niemand erreichbar. Bitte hinterlassen Sie eine Nachricht nach "
        "dem Signalton, und drücken Sie Raute, wenn Sie fertig sind."
    ),
    "no_messages": "Sie haben keine Nachrichten.",
    "one_message": "Sie haben eine Nachricht.",
    "messages": "Sie haben {count} Nachrichten.",
    "message_keys": "5 wiederholt, 6 zur nächsten, 7 löscht, 8 ruft zurück, Stern beendet.",
    "message_from": "Nachricht {n}, von {caller}, {day} um {time}.",
    "message_from_undated": "Nachricht {n}, von {caller}.",
    "unknown_caller": "einem unbekannten Anrufer",
    "weekdays": "Montag,Dienstag,Mittwoch,Donnerstag,Freitag,Samstag,Sonntag",
    "deleted": "Nachricht gelöscht.",
    "no_more": "Keine weiteren Nachrichten.",
    "intro": (
        "Sprachmenü. 1: Adresse der Webseite. 2: Identität dieses Telefons. 3: Verbindungsstatus. "
        "4: Firmware-Version. 5: Einrichtungscode. 9: Neustart. 0: Werkseinstellungen. "
        "Raute wiederholt, Stern geht zurück."
    ),
    "no_item": "Es gibt keinen Punkt {key}.",
    "address": "Die Webseite ist unter {address} erreichbar, oder unter {name}.",
    "address_only": "Die Webseite ist unter {address} erreichbar.",
    "no_address": "Dieses Telefon hat noch keine Netzwerkadresse.",
    "access_point": (
        "Kein Netzwerk gefunden: dieses Telefon hat ein eigenes WLAN, {name}, Passwort {key}. "
        "Verbinden Sie sich damit und öffnen Sie dann {address}."
    ),
    "dot": "Punkt",
    "port": "Port",
    "jami_name": "Der Jami-Name dieses Telefons ist {name}.",
    "jami_id": "Die Jami-ID dieses Telefons ist {id}.",
    "sip": "SIP-Nummer {user} bei {host}.",
    "sip_direct": "SIP-Nummer {user}, direkte Anrufe.",
    "no_account": "Dieses Telefon hat noch kein Konto.",
    "service_down": "Der Telefondienst startet neu.",
    "no_emergency_line": (
        "Notrufe sind von diesem Telefon gerade nicht möglich: "
        "keine Telefonleitung ist verbunden. Benutzen Sie ein anderes Telefon."
    ),
    "jami_registered": "Jami: mit dem Netz verbunden.",
    "jami_trying": "Jami: verbindet.",
    "jami_down": "Jami: nicht verbunden.",
    "sip_registered": "SIP {user}: angemeldet.",
    "sip_trying": "SIP {user}: meldet sich an.",
    "sip_down": "SIP {user}: nicht angemeldet.",
    "ethernet": "Ethernet: {address}.",
    "wifi": "WLAN: {address}.",
    "link": "{name}: {address}.",
    "no_network": "Kein Netzwerk: Kabel einstecken oder WLAN einrichten.",
    "version": "Firmware-Version {version}.",
    "version_unknown": "Die Firmware-Version ist nicht bekannt.",
    "setup_code": "Der Einrichtungscode ist {code}.",
    "no_setup_code": "Dieses Telefon ist eingerichtet: es gibt keinen Einrichtungscode.",
    "reboot_confirm": "Zum Neustart noch einmal 9 drücken. Stern geht zurück.",
    "rebooting": "Neustart. Auf Wiederhören.",
    "reset_confirm": (
        "Werkseinstellungen löschen alles auf diesem Telefon. Zum Fortfahren {code} wählen. "
        "Stern geht zurück."
    ),
    "resetting": "Alles wird gelöscht. Das Telefon startet neu wie ab Werk.",
    "wrong_code": "Falscher Code: nichts wurde gelöscht.",
}

FR = {
    "greeting_record": "Enregistrez votre annonce après le bip, puis appuyez sur dièse.",
    "greeting_review": (
        "Voici votre nouvelle annonce. Ensuite : 1 la garde, 2 la réenregistre, étoile garde l'ancienne."
    ),
    "greeting_none": "Rien n'a été enregistré. 2 pour recommencer, étoile pour revenir.",
    "greeting_kept": "Votre annonce est enregistrée : les appelants l'entendront désormais.",
    "greeting": (
        "Bonjour. Personne ne peut vous répondre pour le moment. Laissez un message après le bip, "
        "et appuyez sur dièse quand vous avez terminé."
    ),
    "no_messages": "Vous n'avez aucun message.",
    "one_message": "Vous avez un message.",
    "messages": "Vous avez {count} messages.",
    "message_keys": "5 répète, 6 passe au suivant, 7 efface, 8 rappelle, étoile termine.",
    "message_from": "Message {n}, de {caller}, {day} à {time}.",
    "message_from_undated": "Message {n}, de {caller}.",
    "unknown_caller": "un correspondant inconnu",
    "weekdays": "lundi,mardi,mercredi,jeudi,vendredi,samedi,dimanche",
    "deleted": "Message effacé.",
    "no_more": "Plus de messages.",
    "intro": (
        "Menu vocal. 1 : l'adresse de la page web. 2 : l'identité de ce téléphone. "
        "3 : l'état de la connexion. 4 : la version du logiciel. 5 : le code de configuration. "
        "9 : redémarrer. 0 : réinitialisation. Dièse répète, étoile revient en arrière."
    ),
    "no_item": "Il n'y a pas de choix {key}.",
    "address": "La page web est à l'adresse {address}, ou {name}.",
    "address_only": "La page web est à l'adresse {address}.",
    "no_address": "Ce téléphone n'a pas encore d'adresse réseau.",
    "access_point": (
        "Aucun réseau trouvé : ce téléphone a son propre Wi-Fi, {name}, mot de passe {key}. "
        "Connectez-vous-y, puis ouvrez {address}."
    ),
    "dot": "point",
    "port": "port",
    "jami_name": "Le nom Jami de ce téléphone est {name}.",
    "jami_id": "L'identifiant Jami de ce téléphone est {id}.",
    "sip": "Numéro SIP {user} chez {host}.",
    "sip_direct": "Numéro SIP {user}, appels directs.",
    "no_account": "Ce téléphone n'a pas encore de compte.",
    "service_down": "Le service téléphonique redémarre.",
    "no_emergency_line": (
        "Les appels d'urgence sont impossibles depuis ce téléphone : "
        "aucune ligne n'est connectée. Utilisez un autre téléphone."
    ),
    "jami_registered": "Jami : connecté au réseau.",
    "jami_trying": "Jami : connexion en cours.",
    "jami_down": "Jami : non connecté.",
    "sip_registered": "SIP {user} : enregistré.",
    "sip_trying": "SIP {user} : enregistrement en cours.",
    "sip_down": "SIP {user} : non enregistré.",
    "ethernet": "Ethernet : {address}.",
    "wifi": "Wi-Fi : {address}.",
    "link": "{name} : {address}.",
    "no_network": "Pas de réseau : branchez le câble ou configurez le Wi-Fi.",
    "version": "Version du logiciel {version}.",
    "version_unknown": "La version du logiciel n'est pas connue.",
    "setup_code": "Le code de configuration est {code}.",
    "no_setup_code": "Ce téléphone est configuré : il n'y a pas de code de configuration.",
    "reboot_confirm": "Pour redémarrer, appuyez encore sur 9. Étoile revient en arrière.",
    "rebooting": "Redémarrage. Au revoir.",
    "reset_confirm": (
        "La réinitialisation efface tout sur ce téléphone. Pour continuer, composez {code}. "
        "Étoile revient en arrière."
    ),
    "resetting": "Tout est effacé. Le téléphone redémarre comme neuf.",
    "wrong_code": "Code erroné : rien n'a été effacé.",
}

NL = {
    "greeting_record": "Spreek uw begroeting in na de toon, en druk op hekje als u klaar bent.",
    "greeting_review": (
        "Uw nieuwe begroeting volgt. Daarna: 1 bewaart hem, 2 neemt opnieuw op, sterretje houdt de oude."
    ),
    "greeting_none": "Er is niets opgenomen. 2 neemt opnieuw op, sterretje gaat terug.",
    "greeting_kept": "Uw begroeting is bewaard: bellers horen hem vanaf nu.",
    "greeting": (
        "Hallo. Er is nu niemand bereikbaar. Spreek een bericht in na de toon, en druk op hekje "
        "als u klaar bent."
    ),
    "no_messages": "U hebt geen berichten.",
    "one_message": "U hebt één bericht.",
    "messages": "U hebt {count} berichten.",
    "message_keys": "5 herhaalt, 6 naar het volgende, 7 wist, 8 belt terug, sterretje stopt.",
    "message_from": "Bericht {n}, van {caller}, {day} om {time}.",
    "message_from_undated": "Bericht {n}, van {caller}.",
    "unknown_caller": "een onbekende beller",
    "weekdays": "maandag,dinsdag,woensdag,donderdag,vrijdag,zaterdag,zondag",
    "deleted": "Bericht gewist.",
    "no_more": "Geen berichten meer.",
    "intro": (
        "Spraakmenu. 1: het adres van de webpagina. 2: de identiteit van deze telefoon. "
        "3: de verbindingsstatus. 4: de firmwareversie. 5: de installatiecode. 9: herstarten. "
        "0: fabrieksinstellingen. Hekje herhaalt, sterretje gaat terug."
    ),
    "no_item": "Er is geen keuze {key}.",
    "address": "De webpagina staat op {address}, of op {name}.",
    "address_only": "De webpagina staat op {address}.",
    "no_address": "Deze telefoon heeft nog geen netwerkadres.",
    "access_point": (
        "Geen netwerk gevonden: deze telefoon heeft een eigen wifi, {name}, wachtwoord {key}. "
        "Maak er verbinding mee en open dan {address}."
    ),
    "dot": "punt",
    "port": "poort",
    "jami_name": "De Jami-naam van deze telefoon is {name}.",
    "jami_id": "De Jami-ID van deze telefoon is {id}.",
    "sip": "SIP-nummer {user} bij {host}.",
    "sip_direct": "SIP-nummer {user}, directe oproepen.",
    "no_account": "Deze telefoon heeft nog geen account.",
    "service_down": "De telefoondienst start opnieuw.",
    "no_emergency_line": (
        "Noodoproepen zijn nu niet mogelijk vanaf deze telefoon: "
        "er is geen telefoonlijn verbonden. Gebruik een andere telefoon."
    ),
    "jami_registered": "Jami: verbonden met het netwerk.",
    "jami_trying": "Jami: verbinding maken.",
    "jami_down": "Jami: niet verbonden.",
    "sip_registered": "SIP {user}: aangemeld.",
    "sip_trying": "SIP {user}: bezig met aanmelden.",
    "sip_down": "SIP {user}: niet aangemeld.",
    "ethernet": "Ethernet: {address}.",
    "wifi": "Wifi: {address}.",
    "link": "{name}: {address}.",
    "no_network": "Geen netwerk: sluit de kabel aan of stel wifi in.",
    "version": "Firmwareversie {version}.",
    "version_unknown": "De firmwareversie is niet bekend.",
    "setup_code": "De installatiecode is {code}.",
    "no_setup_code": "Deze telefoon is ingesteld: er is geen installatiecode.",
    "reboot_confirm": "Druk nogmaals op 9 om te herstarten. Sterretje gaat terug.",
    "rebooting": "Herstarten. Tot ziens.",
    "reset_confirm": (
        "Fabrieksinstellingen wissen alles op deze telefoon. Kies {code} om door te gaan. "
        "Sterretje gaat terug."
    ),
    "resetting": "Alles wordt gewist. De telefoon start opnieuw als nieuw.",
    "wrong_code": "Verkeerde code: er is niets gewist.",
}

LANGUAGES: dict[str, dict[str, str]] = {"en": EN, "de": DE, "fr": FR, "nl": NL}

# The language a country's phone speaks unless ``phone.language`` says otherwise.
COUNTRY_LANGUAGE = {"US": "en", "GB": "en", "DE": "de", "FR": "fr", "NL": "nl", "JP": "en"}


def language_for(language: str, country: str) -> str:
    """``language`` if the phone speaks it, else the country's, else English."""
    if language.lower() in LANGUAGES:
        return language.lower()
    return COUNTRY_LANGUAGE.get(country.upper(), "en")


def phrase(language: str, key: str, /, **values: str) -> str:
    """The text of ``key`` in ``language`` (English where a table lacks it), filled in."""
    table = LANGUAGES.get(language, EN)
    return table.get(key, EN[key]).format(**values)
